package envimage

import "strings"

// SWEBenchArch is the architecture SWE-bench's published images are built
// for, as their names spell it.
const SWEBenchArch = "x86_64"

// SWEBenchRef is the name SWE-bench publishes the image of an instance
// under: sweb.eval.x86_64.<instance id, lower case, "__" written
// "_1776_">:latest, after namespace and a slash when namespace is not
// empty ("swebench" is Docker Hub's; a registry host may lead it, as in
// "registry.example:5000/swebench").
func SWEBenchRef(namespace, instanceID string) string {
	id := strings.ReplaceAll(strings.ToLower(instanceID), "__", "_1776_")
	ref := "sweb.eval." + SWEBenchArch + "." + id + ":latest"
	if ns := strings.Trim(namespace, "/"); ns != "" {
		ref = ns + "/" + ref
	}
	return ref
}
