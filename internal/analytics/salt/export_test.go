package salt

import "time"

// Open is open, for tests that try stored values with other keys.
var Open = open

// PublicKey is publicKey.
var PublicKey = publicKey

// SetSynced makes Run call f after each Sync (in Run's goroutine).
func SetSynced(k *Keeper, f func()) { k.synced = f }

// Round returns this Keeper's peer id for the day of now, and the memory
// of the round's salt and private key, so a test can see them
// overwritten after the day. ok is false without a round.
func Round(k *Keeper, now time.Time) (peer string, salt, priv *[32]byte, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := k.rounds[dayNumber(now)]
	if r == nil {
		return "", nil, nil, false
	}
	return r.peer, &r.salt, &r.priv, true
}

// Generation is the generation this Keeper holds or asks for on the day
// of now (-1 without a round).
func Generation(k *Keeper, now time.Time) int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r := k.rounds[dayNumber(now)]; r != nil {
		return r.gen
	}
	return -1
}
