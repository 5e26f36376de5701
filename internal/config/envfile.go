package config

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Setting describes one setting for tools that list them: the packaged
// environment file, storekeep init, the checks of deploy/.
type Setting struct {
	Flag, Env, Default, Help string
	Secret                   bool
}

// Settings lists every setting in the order serve's help shows them.
func Settings() []Setting {
	var c Config
	var out []Setting
	for _, s := range c.settings() {
		out = append(out, Setting{Flag: s.flag, Env: s.env, Default: s.def, Help: s.help, Secret: s.secret})
	}
	return out
}

// EnvFile is an environment file of settings, in the format systemd's
// EnvironmentFile= reads: every setting appears, with its help as a
// comment; those in Set are active lines, the others commented out with
// their default. Made from the settings list, it never lacks a setting
// that the binary knows.
type EnvFile struct {
	// Set holds the active settings by variable name.
	Set map[string]string
	// Defaults replaces the default shown for a variable, where the
	// installation sets one of its own (the package's data directory).
	Defaults map[string]string
}

// envFileHeader opens every environment file.
const envFileHeader = `# Storekeep's settings, read by the storekeep service (EnvironmentFile= in
# storekeep.service) before it starts. Each setting is an environment
# variable: remove the "#" in front of one and change its value, then run
# "systemctl restart storekeep". "storekeep config" prints the settings in
# effect. Write a value as it is, or in double quotes when it has spaces.
# The package keeps this file when it is upgraded. See docs/install.md.
`

// Write writes the file. A value Set that has a line break, or a name
// that is not a setting, is refused: the file would not say what was
// meant.
func (f EnvFile) Write(w io.Writer) error {
	settings := Settings()
	for name, v := range f.Set {
		if !slices.ContainsFunc(settings, func(s Setting) bool { return s.Env == name }) {
			return fmt.Errorf("environment file: %s is not a Storekeep setting", name)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("environment file: the value of %s has a line break: give it on one line", name)
		}
	}
	var bw strings.Builder
	bw.WriteString(envFileHeader)
	for _, s := range settings {
		bw.WriteString("\n")
		for _, line := range wrap(s.Help+" (--"+s.Flag+")", 74) {
			bw.WriteString("# " + line + "\n")
		}
		if v, ok := f.Set[s.Env]; ok {
			bw.WriteString(s.Env + "=" + envQuote(v) + "\n")
			continue
		}
		def := s.Default
		if d, ok := f.Defaults[s.Env]; ok {
			def = d
		}
		bw.WriteString("#" + s.Env + "=" + envQuote(def) + "\n")
	}
	_, err := io.WriteString(w, bw.String())
	return err
}

// envQuote writes v so that systemd reads it back as v: bare when it is
// plain, otherwise in double quotes with backslash escapes.
func envQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\$`#;") {
		return v
	}
	if v == "" {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(v) + `"`
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// ReadEnvFile reads the active lines of an environment file written by
// EnvFile (or by hand, in the same format): NAME=value, with comments and
// blank lines skipped and double-quoted values unquoted as systemd does.
func ReadEnvFile(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		name, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("line %d is not NAME=value: %q", n, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			var b strings.Builder
			for i := 1; i < len(v)-1; i++ {
				if v[i] == '\\' && i+1 < len(v)-1 {
					i++
				}
				b.WriteByte(v[i])
			}
			v = b.String()
		} else if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(name)] = v
	}
	return out, sc.Err()
}
