package code

import "os"

// pipes are a harness's stdio and protocol pipes.
type pipes struct {
	devnull    *os.File
	outR, outW *os.File
	errR, errW *os.File
	cmdR, cmdW *os.File
	evtR, evtW *os.File
}

func (p *pipes) open() error {
	var err error
	if p.devnull, err = os.Open(os.DevNull); err != nil {
		return err
	}
	for _, pair := range []struct{ r, w **os.File }{{&p.outR, &p.outW}, {&p.errR, &p.errW}, {&p.cmdR, &p.cmdW}, {&p.evtR, &p.evtW}} {
		if *pair.r, *pair.w, err = os.Pipe(); err != nil {
			p.closeChildSide()
			p.closeParentSide()
			return err
		}
	}
	return nil
}

func (p *pipes) closeChildSide() {
	for _, f := range []*os.File{p.devnull, p.outW, p.errW, p.cmdR, p.evtW} {
		if f != nil {
			f.Close()
		}
	}
}

func (p *pipes) closeParentSide() {
	for _, f := range []*os.File{p.outR, p.errR, p.cmdW, p.evtR} {
		if f != nil {
			f.Close()
		}
	}
}
