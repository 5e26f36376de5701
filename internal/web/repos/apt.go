package repos

// mountAPT registers the APT repository: /apt/{product}/dists/... and
// /apt/{product}/pool/... (being built).
func (h *handler) mountAPT() {}
