// Command validate decodes every object of a rendered chart (helm template's output on stdin)
// strictly into the Kubernetes API's own Go types: an unknown or misplaced field, a wrong type, a
// duplicate key or an unknown kind fails, naming the object. Offline once its modules are downloaded.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

func main() {
	types := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{scheme.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(types); err != nil {
			fail("scheme: %v", err)
		}
	}
	decoder := serializer.NewCodecFactory(types, serializer.EnableStrict).UniversalDeserializer()
	input, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fail("reading stdin: %v", err)
	}
	objects, problems := 0, 0
	for i, doc := range bytes.Split(input, []byte("\n---")) {
		source := sourceOf(doc)
		json, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			problems++
			fmt.Fprintf(os.Stderr, "document %d (%s): %v\n", i, source, err)
			continue
		}
		if string(json) == "null" {
			continue
		}
		objects++
		if _, gvk, err := decoder.Decode(json, nil, nil); err != nil {
			problems++
			fmt.Fprintf(os.Stderr, "%s: %v\n", source, err)
		} else {
			fmt.Printf("ok %s %s\n", gvk.Kind, source)
		}
	}
	if objects == 0 {
		fail("no objects on stdin")
	}
	if problems > 0 {
		fail("%d of %d objects invalid", problems, objects)
	}
	fmt.Printf("%d objects valid\n", objects)
}

// sourceOf is the "# Source: <template>" line helm writes above each object.
func sourceOf(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "# Source: ") {
			return strings.TrimPrefix(line, "# Source: ")
		}
	}
	return "unnamed"
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "validate: "+format+"\n", args...)
	os.Exit(1)
}
