package repos

import (
	"container/list"
	"sync"

	"github.com/storekeep/storekeep/internal/repos"
)

// MetadataCacheBytes bounds the memory the built repository metadata
// takes: about ten products' worth of 1,000 package versions each
// (docs/benchmarks.md, "Package repository metadata").
var MetadataCacheBytes = 64 << 20

// metaCache keeps built and signed metadata by the key of what it is
// made of, least recently used first out once it holds more than max
// bytes. Licenses that cover the same packages (most licenses of an
// edition) share one entry; a license covering other packages has a key
// of its own, so no license ever sees another's view.
type metaCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *cached, most recently used first
	byKey map[string]*list.Element
}

type cached struct {
	key  string
	apt  *repos.APT
	size int
}

func newMetaCache(max int) *metaCache {
	return &metaCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *metaCache) get(key string) (*repos.APT, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cached).apt, true
}

// put keeps a (unless it alone is larger than the bound) and drops the
// least recently used entries beyond the bound.
func (c *metaCache) put(key string, a *repos.APT, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.max {
		return
	}
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cached{key: key, apt: a, size: size})
	c.size += size
	for c.size > c.max {
		e := c.order.Back()
		v := e.Value.(*cached)
		c.order.Remove(e)
		delete(c.byKey, v.key)
		c.size -= v.size
	}
}

// len is the number of entries (tests).
func (c *metaCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
