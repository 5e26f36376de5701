package requestlog

// HostOf is the host name of an http(s) URL, lower-cased, without port,
// user information and trailing dot; "" when there is none or it holds
// characters no host name or address has. The usage analytics keep a
// referrer's host the same way the log does.
func HostOf(rawURL string) string { return hostOf(rawURL) }
