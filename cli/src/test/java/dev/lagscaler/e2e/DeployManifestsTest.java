package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.testing.K8sBinaries;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** deploy/lagscaler.yaml is accepted by the real apiserver (server-side dry run: schemas, RBAC, APIService). */
@WithControlPlane
class DeployManifestsTest {
    @Test
    void manifestsPassServerSideValidation(LocalControlPlane plane) throws Exception {
        Path manifest = K8sBinaries.findScript().getParent().getParent().resolve("deploy").resolve("lagscaler.yaml");
        assertTrue(Files.isRegularFile(manifest), manifest.toString());
        plane.kubectl("apply", "-f", namespaceFile(plane).toString());
        String out = plane.kubectl("apply", "--dry-run=server", "-f", manifest.toString());
        assertTrue(out.contains("statefulset.apps/lagscaler-operator") && out.contains("apiservice.apiregistration.k8s.io/v1beta1.external.metrics.k8s.io"), out);
    }

    /** The namespace must exist for a dry run of the namespaced objects. */
    private static Path namespaceFile(LocalControlPlane plane) throws Exception {
        Path file = Files.createTempFile(plane.directory(), "ns-", ".yaml");
        Files.writeString(file, "apiVersion: v1\nkind: Namespace\nmetadata: {name: lagscaler}\n");
        return file;
    }
}
