package repos

import (
	"testing"

	"github.com/storekeep/storekeep/internal/repos"
)

// TestMetaCacheBound: entries are kept up to the bound, the least
// recently used go first, and one larger than the bound is not kept.
func TestMetaCacheBound(t *testing.T) {
	c := newMetaCache[string, *repos.APT](0, 100)
	a, b, d := &repos.APT{}, &repos.APT{}, &repos.APT{}
	c.put("a", a, 40)
	c.put("b", b, 40)
	if got, ok := c.get("a"); !ok || got != a { // a is now the most recent
		t.Fatal("a not kept")
	}
	c.put("d", d, 40) // over the bound: b, the least recently used, goes
	if _, ok := c.get("b"); ok {
		t.Error("b kept beyond the bound")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a dropped")
	}
	c.put("huge", &repos.APT{}, 101)
	if _, ok := c.get("huge"); ok || c.len() != 2 || c.size != 80 {
		t.Errorf("len %d, size %d", c.len(), c.size)
	}
}
