package repos

import (
	"container/list"
	"sync"
)

// MetadataCacheBytes bounds the memory the built APT metadata takes:
// about ten products' worth of 1,000 package versions each
// (docs/benchmarks.md, "Package repository metadata").
var MetadataCacheBytes = 64 << 20

// metaCache keeps built and signed metadata (APT's or YUM's) by the key
// of what it is made of, least recently used first out once it holds
// more than maxBytes, or more than maxEntries entries when that is not 0.
// Licenses that cover the same packages (most licenses of an edition)
// share one entry; a license covering other packages has a key of its
// own, so no license ever sees another's view.
type metaCache[K comparable, V any] struct {
	mu         sync.Mutex
	maxEntries int // 0: no bound on the number
	maxBytes   int
	size       int
	order      *list.List // of *cached[K, V], most recently used first
	byKey      map[K]*list.Element
}

type cached[K comparable, V any] struct {
	key  K
	v    V
	size int
}

func newMetaCache[K comparable, V any](maxEntries, maxBytes int) *metaCache[K, V] {
	return &metaCache[K, V]{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(), byKey: map[K]*list.Element{}}
}

func (c *metaCache[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cached[K, V]).v, true
}

// put keeps v of size bytes (unless it alone is larger than the bound)
// and drops the least recently used entries beyond the bounds.
func (c *metaCache[K, V]) put(key K, v V, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.maxBytes {
		return
	}
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cached[K, V]{key: key, v: v, size: size})
	c.size += size
	for c.size > c.maxBytes || (c.maxEntries > 0 && c.order.Len() > c.maxEntries) {
		e := c.order.Back()
		old := e.Value.(*cached[K, V])
		c.order.Remove(e)
		delete(c.byKey, old.key)
		c.size -= old.size
	}
}

// len is the number of entries (tests).
func (c *metaCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
