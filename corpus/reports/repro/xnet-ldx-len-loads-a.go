// golang.org/x/net/bpf: Disassemble turns BPF_LDX|BPF_W|BPF_LEN ("ldx len", X = packet length) into
// LoadExtension{Num: ExtLen}, which loads the length into A, so a raw program that reads the length
// into X computes something else, and Assemble gives back BPF_LD|BPF_W|BPF_LEN.
// Build offline with the Debian package golang-golang-x-net-dev:
//   GO111MODULE=off GOPATH=/usr/share/gocode go run xnet-ldx-len-loads-a.go
package main

import (
	"fmt"

	"golang.org/x/net/bpf"
)

func main() {
	raw := []bpf.RawInstruction{
		{Op: 0x81}, // ldx len      (BPF_LDX | BPF_W | BPF_LEN): X = len
		{Op: 0x87}, // txa          (BPF_MISC | BPF_TXA):        A = X
		{Op: 0x16}, // ret a        (BPF_RET | BPF_A)
	}
	insts, all := bpf.Disassemble(raw)
	fmt.Printf("Disassemble: %#v (all decoded: %v)\n", insts, all)
	back, _ := bpf.Assemble(insts)
	fmt.Printf("Assemble(Disassemble(raw))[0].Op = %#x (was %#x)\n", back[0].Op, raw[0].Op)
	vm, err := bpf.NewVM(insts)
	if err != nil {
		fmt.Println("NewVM:", err)
		return
	}
	n, err := vm.Run(make([]byte, 64))
	fmt.Printf("Run on 64 bytes: %d, %v (Linux: 64)\n", n, err)
}
