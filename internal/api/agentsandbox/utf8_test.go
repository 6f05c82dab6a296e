package agentsandbox

import "testing"

// TestUTF8Carry: a character split between chunks reaches the client whole, once.
func TestUTF8Carry(t *testing.T) {
	text := []byte("a€b😀c")
	for cut := 0; cut <= len(text); cut++ {
		var c utf8Carry
		got := c.take(text[:cut]) + c.take(text[cut:]) + c.flush()
		if got != string(text) {
			t.Errorf("cut at %d: %q", cut, got)
		}
	}
	var c utf8Carry
	if got := c.take([]byte{0xe2, 0x82}); got != "" {
		t.Errorf("half a character was sent: %q", got)
	}
	if got := c.take([]byte{0xac}); got != "€" {
		t.Errorf("completed: %q", got)
	}
}
