package deploy

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestComposeExample reads compose.yaml as Compose would (Docker is not on
// CI's machine, so it is not run): Storekeep waits for a healthy
// PostgreSQL, connects to it by its service name, keeps its data in named
// volumes and runs without privileges.
func TestComposeExample(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string
			Build       string
			DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
			Environment map[string]string
			Volumes     []string
			Healthcheck struct{ Test []string }
			ReadOnly    bool     `yaml:"read_only"`
			CapDrop     []string `yaml:"cap_drop"`
			SecurityOpt []string `yaml:"security_opt"`
		}
		Volumes map[string]any
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	db, sk := c.Services["db"], c.Services["storekeep"]
	if db.Image == "" || !slices.Contains(db.Healthcheck.Test, "pg_isready") {
		t.Errorf("the db service has no image or no pg_isready health check: %+v", db)
	}
	if sk.DependsOn["db"].Condition != "service_healthy" {
		t.Error("storekeep does not wait for a healthy database")
	}
	// Compose substitutes ${VAR} from .env before the URL is used.
	u, err := url.Parse(os.Expand(sk.Environment["STOREKEEP_DB"], func(string) string { return "secret" }))
	if err != nil || u.Scheme != "postgres" || u.Hostname() != "db" || u.Path != "/"+db.Environment["POSTGRES_DB"] || u.User.Username() != db.Environment["POSTGRES_USER"] {
		t.Errorf("STOREKEEP_DB %q does not name the db service's database and user", sk.Environment["STOREKEEP_DB"])
	}
	for _, v := range append(slices.Clone(db.Volumes), sk.Volumes...) {
		name, _, _ := strings.Cut(v, ":")
		if _, ok := c.Volumes[name]; !ok {
			t.Errorf("volume %q is not declared", v)
		}
	}
	if !slices.Contains(sk.Volumes, "data:"+DataDir) {
		t.Errorf("the data directory %s is not a volume: %v", DataDir, sk.Volumes)
	}
	if !sk.ReadOnly || !slices.Contains(sk.CapDrop, "ALL") || !slices.Contains(sk.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("storekeep runs with privileges: read_only %v, cap_drop %v, security_opt %v", sk.ReadOnly, sk.CapDrop, sk.SecurityOpt)
	}
}
