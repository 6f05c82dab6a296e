package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StorageClass makes what the test cluster lacks for claims to bind, since it has no
// provisioner: a StorageClass of its own (kubernetes.io/no-provisioner, binding at first use)
// and n hostPath PersistentVolumes of it, directories under t's temporary directory (the
// node is this machine), each large enough for any claim. A claim binds one volume for good
// (they are retained, not recycled), so n is the number of claims t's pods will use. All of
// it is deleted when t ends; it returns the class's name.
func (c *Cluster) StorageClass(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "pdtest-" + hex.EncodeToString(b)
	dir := t.TempDir() // removed after the cleanup below, which runs after the pods' deletes
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"paddock.dev/test": "true"}},
		Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: &wait}
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create storage class %s: %v", name, err)
	}
	var pvs []string
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// A bound volume stays (protected) until its claim goes with the test's namespace.
		for _, pv := range pvs {
			if err := c.Client.CoreV1().PersistentVolumes().Delete(ctx, pv, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete persistent volume %s: %v", pv, err)
			}
		}
		if err := c.Client.StorageV1().StorageClasses().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete storage class %s: %v", name, err)
		}
	})
	hostDir := corev1.HostPathDirectory
	for i := range n {
		path := filepath.Join(dir, fmt.Sprint(i))
		// Writable by the sandboxes' users: a hostPath volume takes no fsGroup.
		if err := os.Mkdir(path, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o777); err != nil {
			t.Fatal(err)
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Labels: map[string]string{"paddock.dev/test": "true"}},
			Spec: corev1.PersistentVolumeSpec{
				StorageClassName:              name,
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Ti")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadWriteMany},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &hostDir}},
			},
		}
		if _, err := c.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create persistent volume %s: %v", pv.Name, err)
		}
		pvs = append(pvs, pv.Name)
	}
	return name
}
