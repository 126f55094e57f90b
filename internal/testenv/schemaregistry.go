package testenv

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// SchemaRegistry is a small in-process Confluent-compatible schema registry for the service's
// own tests: POST /subjects/{subject}/versions, GET /schemas/ids/{id} and
// GET /subjects/{subject}/versions/latest with Confluent's JSON shapes, a schema id per distinct
// schema text, 409 for the subjects Refuse names. Down makes it drop every connection, like a
// registry that is not there. (The interoperability tests use franz-go's srfake, independent of
// this one.)
type SchemaRegistry struct {
	URL  string
	down atomic.Bool

	mu       sync.Mutex
	ids      map[string]int   // schema text → id
	schemas  []string         // id-1 → schema text
	subjects map[string][]int // subject → the ids of its versions
	refused  map[string]bool  // subjects answered 409
	posts    map[string]int   // subject → registrations asked
	auth     string           // the Authorization header required; "": none
}

// NewSchemaRegistry starts one, closed at the end of the test.
func NewSchemaRegistry(t testing.TB) *SchemaRegistry {
	r := newSchemaRegistry()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// NewSchemaRegistryTLS starts one at an https URL, and returns its certificate in PEM, for a
// client's CA file.
func NewSchemaRegistryTLS(t testing.TB) (*SchemaRegistry, []byte) {
	r := newSchemaRegistry()
	srv := httptest.NewTLSServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func newSchemaRegistry() *SchemaRegistry {
	return &SchemaRegistry{ids: map[string]int{}, subjects: map[string][]int{}, refused: map[string]bool{}, posts: map[string]int{}}
}

// Down makes the registry drop every connection (true) or answer again (false).
func (r *SchemaRegistry) Down(down bool) { r.down.Store(down) }

// Refuse answers 409 (an incompatible schema) to registrations under subject.
func (r *SchemaRegistry) Refuse(subject string, refuse bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused[subject] = refuse
}

// RequireBasicAuth refuses requests without these credentials (401).
func (r *SchemaRegistry) RequireBasicAuth(user, password string) {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, password)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.auth = req.Header.Get("Authorization")
}

// Schema returns the schema text of id.
func (r *SchemaRegistry) Schema(id int) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 1 || id > len(r.schemas) {
		return "", false
	}
	return r.schemas[id-1], true
}

// Latest returns the id of subject's latest version.
func (r *SchemaRegistry) Latest(subject string) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.subjects[subject]
	if len(v) == 0 {
		return 0, false
	}
	return v[len(v)-1], true
}

// Posts is how many registrations under subject were asked.
func (r *SchemaRegistry) Posts(subject string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.posts[subject]
}

// Subjects is how many subjects hold a schema.
func (r *SchemaRegistry) Subjects() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subjects)
}

func (r *SchemaRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.auth != "" && req.Header.Get("Authorization") != r.auth {
		answer(w, http.StatusUnauthorized, map[string]any{"error_code": 401, "message": "Unauthorized"})
		return
	}
	path := req.URL.Path
	switch {
	case req.Method == http.MethodPost && strings.HasPrefix(path, "/subjects/") && strings.HasSuffix(path, "/versions"):
		r.register(w, req, strings.TrimSuffix(strings.TrimPrefix(path, "/subjects/"), "/versions"))
	case req.Method == http.MethodGet && strings.HasPrefix(path, "/schemas/ids/"):
		id, _ := strconv.Atoi(strings.TrimPrefix(path, "/schemas/ids/"))
		if id < 1 || id > len(r.schemas) {
			answer(w, http.StatusNotFound, map[string]any{"error_code": 40403, "message": "Schema not found"})
			return
		}
		answer(w, http.StatusOK, map[string]any{"schemaType": "JSON", "schema": r.schemas[id-1]})
	case req.Method == http.MethodGet && strings.HasPrefix(path, "/subjects/") && strings.HasSuffix(path, "/versions/latest"):
		subject := strings.TrimSuffix(strings.TrimPrefix(path, "/subjects/"), "/versions/latest")
		v := r.subjects[subject]
		if len(v) == 0 {
			answer(w, http.StatusNotFound, map[string]any{"error_code": 40401, "message": "Subject not found"})
			return
		}
		id := v[len(v)-1]
		answer(w, http.StatusOK, map[string]any{"subject": subject, "version": len(v), "id": id, "schemaType": "JSON", "schema": r.schemas[id-1]})
	default:
		answer(w, http.StatusNotFound, map[string]any{"error_code": 404, "message": "Not found"})
	}
}

func (r *SchemaRegistry) register(w http.ResponseWriter, req *http.Request, subject string) {
	var in struct {
		SchemaType string `json:"schemaType"`
		Schema     string `json:"schema"`
	}
	r.posts[subject]++
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.SchemaType != "JSON" || !json.Valid([]byte(in.Schema)) {
		answer(w, http.StatusUnprocessableEntity, map[string]any{"error_code": 42201, "message": "Invalid schema"})
		return
	}
	if r.refused[subject] {
		answer(w, http.StatusConflict, map[string]any{"error_code": 409, "message": "Schema being registered is incompatible with an earlier schema for subject \"" + subject + "\""})
		return
	}
	id, ok := r.ids[in.Schema]
	if !ok {
		r.schemas = append(r.schemas, in.Schema)
		id = len(r.schemas)
		r.ids[in.Schema] = id
	}
	if v := r.subjects[subject]; len(v) == 0 || v[len(v)-1] != id {
		r.subjects[subject] = append(v, id)
	}
	answer(w, http.StatusOK, map[string]any{"id": id})
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
