package repos

// mountYUM registers the YUM/DNF repository: /yum/{product}/{channel}/
// repodata/... and the packages (being built).
func (h *handler) mountYUM() {}
