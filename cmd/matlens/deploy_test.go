package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/matlens/matlens/ingest/ingesttest"
)

// No Docker engine runs in CI, so the deployment files are checked for what
// can be checked without one: structure, references between services, and
// that every matlens command line in them is one matlens accepts.
func TestDockerComposeIsConsistent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image     string   `yaml:"image"`
			Build     string   `yaml:"build"`
			Command   []string `yaml:"command"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	if err := dec.Decode(&compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(compose.Services) == 0 {
		t.Fatal("no services")
	}
	conditions := []string{"service_started", "service_healthy", "service_completed_successfully"}
	for name, svc := range compose.Services {
		if (svc.Image == "") == (svc.Build == "") {
			t.Errorf("service %s: want exactly one of image and build", name)
		}
		for dep, d := range svc.DependsOn {
			if _, ok := compose.Services[dep]; !ok {
				t.Errorf("service %s depends on unknown service %s", name, dep)
			}
			if !slices.Contains(conditions, d.Condition) {
				t.Errorf("service %s: depends_on condition %q", name, d.Condition)
			}
		}
		for _, v := range svc.Volumes {
			vol, _, _ := strings.Cut(v, ":")
			if _, ok := compose.Volumes[vol]; !ok && !strings.HasPrefix(vol, ".") && !strings.HasPrefix(vol, "/") {
				t.Errorf("service %s mounts undeclared volume %s", name, vol)
			}
		}
		if svc.Build != "." || len(svc.Command) == 0 {
			continue
		}
		// Every flag the compose file passes must be one the command declares.
		args := svc.Command
		helpArgs := []string{args[0]}
		if args[0] == "fixtures" {
			helpArgs = append(helpArgs, args[1])
		}
		_, _, help := runCLI(t, noEnv, append(helpArgs, "-h")...)
		for _, a := range args {
			if strings.HasPrefix(a, "--") && !strings.Contains(help, "  -"+strings.TrimPrefix(a, "--")+" ") && !strings.Contains(help, "  -"+strings.TrimPrefix(a, "--")+"\n") {
				t.Errorf("service %s: matlens %s has no flag %s", name, args[0], a)
			}
		}
	}
	if _, ok := compose.Services["matlens"]; !ok {
		t.Error("no matlens service")
	}
}

func TestDockerfileBuildsTheCLIWithTheModulesGo(t *testing.T) {
	df, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVer == nil {
		t.Fatal("go.mod has no go directive")
	}
	text := string(df)
	if !strings.Contains(text, "FROM golang:"+string(goVer[1])) {
		t.Errorf("Dockerfile does not build with Go %s (go.mod)", goVer[1])
	}
	for _, want := range []string{"CGO_ENABLED=1", "./cmd/matlens", `ENTRYPOINT ["matlens"]`, "AS build", "COPY --from=build"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

func TestFixturesIfEmptySeedsOnce(t *testing.T) {
	dsn := ingesttest.NewPostgres(t)
	args := []string{"fixtures", "generate", "--pg", dsn, "--assets", "5", "--days", "2", "--runs-per-day", "2", "--if-empty"}
	code, out, stderr := runCLI(t, noEnv, args...)
	if code != exitOK || !strings.Contains(out, "loaded") {
		t.Fatalf("first seed: exit %d %s %s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, noEnv, args...)
	if code != exitOK || !strings.Contains(out, "left as is") {
		t.Errorf("second seed: exit %d %s %s", code, out, stderr)
	}
}
