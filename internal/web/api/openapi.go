package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 document of the API, kept by hand beside
// the code: the tests validate real answers of every endpoint against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) error {
	return h.write(w, r, http.StatusOK, openAPIDoc, "")
}

// publicKeys serves /.well-known/storekeep-license-keys.json: every public
// key of the keyring, never a private one. It is signed like the API's
// answers, so a product that trusts one key can trust a new one it
// announces.
func (h *handler) publicKeys(w http.ResponseWriter, r *http.Request) error {
	body, err := json.Marshal(map[string]any{"keys": h.keys.Published()})
	if err != nil {
		return err
	}
	return h.write(w, r, http.StatusOK, body, "")
}
