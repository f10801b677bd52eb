// Makes tests/vectors/signed_note_go.json with Go's golang.org/x/mod/sumdb/note, the reference
// implementation of C2SP signed notes: keys with non-ASCII names, notes whose text has empty
// lines, and which key names Go's note package accepts. Not part of the build; to run it:
//
//	apt-get install golang-go golang-golang-x-mod-dev
//	GOPATH=/usr/share/gocode GO111MODULE=off go run tests/vectors/signed_note_go.go \
//	  > tests/vectors/signed_note_go.json
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

type seeded struct{ b *bytes.Reader }

func (s seeded) Read(p []byte) (int, error) { return s.b.Read(p) }

func seed(label string) seeded {
	h := sha256.Sum256([]byte(label))
	return seeded{bytes.NewReader(h[:])}
}

// A verifier key text for `name` around a fixed public key, with the key id computed as
// C2SP says, so that only the name can make note.NewVerifier refuse it.
func vkeyFor(name string) string {
	pk := bytes.Repeat([]byte{7}, 32)
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', 1})
	h.Write(pk)
	id := h.Sum(nil)[:4]
	return fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(id),
		base64.StdEncoding.EncodeToString(append([]byte{1}, pk...)))
}

func main() {
	out := map[string]any{}
	keys := map[string]map[string]string{}
	var signers []note.Signer
	var verifiers []note.Verifier
	for _, name := range []string{"zoë.example/régistre", "例え.jp/台帳"} {
		skey, vkey, err := note.GenerateKey(seed(name), name)
		if err != nil {
			panic(err)
		}
		keys[name] = map[string]string{"skey": skey, "vkey": vkey}
		s, err := note.NewSigner(skey)
		if err != nil {
			panic(err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			panic(err)
		}
		signers = append(signers, s)
		verifiers = append(verifiers, v)
	}
	out["keys"] = keys
	texts := []string{
		"Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n",
		"ends with an empty line\n\n",
		"\n",
		"two\n\n\nempty lines\n",
	}
	var valid []map[string]any
	for _, text := range texts {
		msg, err := note.Sign(&note.Note{Text: text}, signers...)
		if err != nil {
			panic(fmt.Sprintf("%q: %v", text, err))
		}
		n, err := note.Open(msg, note.VerifierList(verifiers...))
		if err != nil || n.Text != text {
			panic(fmt.Sprintf("%q: %v", text, err))
		}
		valid = append(valid, map[string]any{"text": text, "note": string(msg)})
	}
	out["valid"] = valid
	var accepted, refused []string
	for _, name := range []string{"zoë.example/régistre", "例え.jp/台帳", "a-b_c~d!", "Ωμέγα",
		"with space", "nbsp\u00a0inside", "ideographic\u3000space", "em\u2003space",
		"line\u2028sep", "nel\u0085x", "plus+sign", "tab\tx", "", "zero\u200bwidth"} {
		if _, err := note.NewVerifier(vkeyFor(name)); err != nil {
			refused = append(refused, name)
		} else {
			accepted = append(accepted, name)
		}
	}
	out["names_accepted"] = accepted
	out["names_refused"] = refused
	out["about"] = "Made with Go's golang.org/x/mod/sumdb/note (Debian golang-golang-x-mod-dev " +
		"0.7.0): keys generated from SHA-256(name) as the seed, notes signed by note.Sign with both keys " +
		"(Ed25519 is deterministic, so signing the text again must give the same bytes), and the key " +
		"names note.NewVerifier accepts or refuses in a verifier key. Generator: signed_note_go.go."
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	enc.Encode(out)
}
