// bpfspec outside judge: golang.org/x/net/bpf, the way a Go program runs a raw classic program in
// user space: bpf.Disassemble (RawInstruction to Instruction), bpf.NewVM (its checks), then
// vm.Run(packet) per packet. Protocol: oracle/outside/README.md (binary frames on stdin/stdout).
// Built offline in GOPATH mode on first use by oracle/xnet/judge.ts (golang-go,
// golang-golang-x-net-dev).
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"golang.org/x/net/bpf"
)

const (
	frameHello  = 1
	frameBatch  = 2
	frameAnswer = 3
	frameError  = 4

	statusValue  = 0
	statusError  = 1
	statusSignal = 2

	maxFrame = 16 << 20
)

var le = binary.LittleEndian

type writer struct{ b []byte }

func (w *writer) u32(v uint32) { w.b = le.AppendUint32(w.b, v) }

func (w *writer) bytes(p []byte) {
	w.b = append(w.b, p...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *writer) str(s string) {
	w.u32(uint32(len(s)))
	w.bytes([]byte(s))
}

func (w *writer) frame(kind uint32, out *bufio.Writer) {
	hdr := make([]byte, 8)
	le.PutUint32(hdr, uint32(len(w.b)+4))
	le.PutUint32(hdr[4:], kind)
	out.Write(hdr)
	out.Write(w.b)
	w.b = w.b[:0]
}

func fail(out *bufio.Writer, msg string) {
	var w writer
	w.str(msg)
	w.frame(frameError, out)
	out.Flush()
	fmt.Fprintln(os.Stderr, "bpfspec-xnet:", msg)
	os.Exit(2)
}

type packet struct {
	headlen uint32
	data    []byte
}

type batch struct {
	id      uint32
	raw     []bpf.RawInstruction
	packets []packet
}

func readBatch(in *bufio.Reader, out *bufio.Writer, buf []byte) (*batch, []byte, bool) {
	var hdr [4]byte
	if _, err := io.ReadFull(in, hdr[:]); err != nil {
		if err == io.EOF {
			return nil, buf, false
		}
		fail(out, "malformed batch frame: truncated size")
	}
	size := le.Uint32(hdr[:])
	if size < 4 || size > maxFrame {
		fail(out, "malformed batch frame: size outside 4..maxFrame")
	}
	if cap(buf) < int(size) {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(in, buf); err != nil {
		fail(out, "malformed batch frame: truncated body")
	}
	p := buf
	need := func(n int, what string) {
		if len(p) < n {
			fail(out, "malformed batch frame: "+what)
		}
	}
	need(16, "header")
	if le.Uint32(p) != frameBatch {
		fail(out, "malformed batch frame: not a batch frame")
	}
	b := &batch{id: le.Uint32(p[4:])}
	n := int(le.Uint32(p[12:]))
	p = p[16:]
	need(8*n, "instructions")
	b.raw = make([]bpf.RawInstruction, n)
	for i := range b.raw {
		b.raw[i] = bpf.RawInstruction{Op: le.Uint16(p), Jt: p[2], Jf: p[3], K: le.Uint32(p[4:])}
		p = p[8:]
	}
	need(4, "packet count")
	np := int(le.Uint32(p))
	p = p[4:]
	if np > len(buf)/8 {
		fail(out, "malformed batch frame: packet count")
	}
	b.packets = make([]packet, np)
	for i := range b.packets {
		need(8, "packet header")
		hl, l := le.Uint32(p), int(le.Uint32(p[4:]))
		p = p[8:]
		padded := (l + 3) &^ 3
		need(padded, "packet bytes")
		if int(hl) > l {
			fail(out, "malformed batch frame: headlen > length")
		}
		// a copy: the frame buffer is reused for the next batch
		b.packets[i] = packet{headlen: hl, data: append([]byte(nil), p[:l]...)}
		p = p[padded:]
	}
	if len(p) != 0 {
		fail(out, "malformed batch frame: trailing bytes")
	}
	return b, buf, true
}

// run calls vm.Run with a Go panic turned into a result (signal 0).
func run(vm *bpf.VM, data []byte) (n int, err error, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	n, err = vm.Run(data)
	return
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	var w writer
	w.str("golang.org/x/net/bpf")
	// the version of the x/net source it was built from, as the judge found it (argv[1])
	version := "unknown"
	if len(os.Args) > 1 && os.Args[1] != "" {
		version = os.Args[1]
	}
	w.str(version)
	w.u32(1)
	w.str("interpreter")
	w.frame(frameHello, out)
	out.Flush()
	var buf []byte
	for {
		var b *batch
		var ok bool
		b, buf, ok = readBatch(in, out, buf)
		if !ok {
			break
		}
		w.u32(b.id)
		insns, _ := bpf.Disassemble(b.raw)
		vm, err := bpf.NewVM(insns)
		if err != nil {
			w.u32(1)
			w.str("NewVM")
			w.str(err.Error())
			w.u32(0) // results
			w.u32(0) // sections
			w.frame(frameAnswer, out)
			out.Flush()
			continue
		}
		w.u32(0)
		w.str("NewVM")
		w.str("")
		w.u32(uint32(len(b.packets)))
		for _, p := range b.packets {
			n, err, panicked := run(vm, p.data)
			switch {
			case panicked != "":
				w.u32(statusSignal)
				w.u32(0)
				w.str("panic: " + panicked)
			case err != nil:
				w.u32(statusError)
				w.u32(0)
				w.str(err.Error())
			default:
				w.u32(statusValue)
				w.u32(uint32(n))
			}
		}
		w.u32(0) // sections
		w.frame(frameAnswer, out)
		out.Flush()
	}
}
