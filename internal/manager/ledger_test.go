package manager_test

import (
	"testing"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/manager/quotatest"
)

func TestQuotaBookConformance(t *testing.T) {
	quotatest.Run(t, func(*testing.T) manager.QuotaLedger { return &manager.QuotaBook{} })
}
