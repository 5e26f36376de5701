package csvcell

import "testing"

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+49 30": "'+49 30", "-5": "'-5", "@SUM(A1)": "'@SUM(A1)", "\t=x": "'\t=x", "\r=x": "'\r=x", "\n=x": "'\n=x",
		"\uff1dcmd": "'\uff1dcmd", "\uff0b1": "'\uff0b1", "\uff0d1": "'\uff0d1", "\uff20x": "'\uff20x",
		"": "", "Öztürk": "Öztürk", "é=x": "é=x", "a=b": "a=b", "\xff=": "\xff=",
	} {
		if got := Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}
