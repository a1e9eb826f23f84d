// verify-log checks vitrine's checkpoints and proofs with Go's own transparency-log code,
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, which share nothing with
// vitrine's implementation. It reads one JSON case on stdin and prints one line per check.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Leaf  string   `json:"leaf"`
	Proof []string `json:"proof"`
}

type consistency struct {
	Size  int64    `json:"size"`
	Root  string   `json:"root"`
	Proof []string `json:"proof"`
}

type input struct {
	Note        string        `json:"note"`
	Vkey        string        `json:"vkey"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func hash(b64 string) tlog.Hash {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != len(h) {
		fail("bad hash %q", b64)
	}
	copy(h[:], raw)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	verifier, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	n, err := note.Open([]byte(in.Note), note.VerifierList(verifier))
	if err != nil {
		fail("note: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("checkpoint has fewer than three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root := hash(lines[2])
	fmt.Printf("ok note %s size %d signed by %s\n", lines[0], size, n.Sigs[0].Name)
	for _, c := range in.Inclusion {
		raw, err := base64.StdEncoding.DecodeString(c.Leaf)
		if err != nil {
			fail("leaf: %v", err)
		}
		if err := tlog.CheckRecord(hashes(c.Proof), size, root, c.Index, tlog.RecordHash(raw)); err != nil {
			fail("inclusion of %d: %v", c.Index, err)
		}
	}
	fmt.Printf("ok inclusion %d\n", len(in.Inclusion))
	for _, c := range in.Consistency {
		if err := tlog.CheckTree(hashes(c.Proof), size, root, c.Size, hash(c.Root)); err != nil {
			fail("consistency from %d: %v", c.Size, err)
		}
	}
	fmt.Printf("ok consistency %d\n", len(in.Consistency))
}
