package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import io.kubernetes.client.util.CallGeneratorParams;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An informer's first list is let go once the informer watches (client-java's reflector would keep it). */
@WithControlPlane
class ReleasingListerWatcherTest {
    @Test
    void theListIsEmptiedWhenTheWatchStartsAndTheInformerKeepsEveryObject(LocalControlPlane plane) throws Exception {
        plane.kubectl("create", "namespace", "released");
        for (int i = 0; i < 3; i++) {
            plane.kubectl("-n", "released", "create", "deployment", "d-" + i, "--image=consumer:1.0", "--replicas=0");
        }
        ApiClient client = plane.apiClient();
        AppsV1Api apps = new AppsV1Api(client);
        ReleasingListerWatcher<V1Deployment, V1DeploymentList> listerWatcher = ReleasingListerWatcher.typed(client,
                params -> apps.listNamespacedDeployment("released").resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).buildCall(null),
                V1Deployment.class, V1DeploymentList.class);

        // The calls as the reflector makes them: a list, then a watch from its version.
        V1DeploymentList list = listerWatcher.list(new CallGeneratorParams(false, null, null));
        assertEquals(3, list.getItems().size());
        try (var watch = listerWatcher.watch(new CallGeneratorParams(true, list.getMetadata().getResourceVersion(), 5))) {
            assertTrue(list.getItems().isEmpty(), "the list it returned holds nothing once the watch starts");
        }

        // And as an informer's: every object cached, and a change after the list still arrives through the watch.
        SharedInformerFactory factory = new SharedInformerFactory(client);
        SharedIndexInformer<V1Deployment> informer = factory.sharedIndexInformerFor(ReleasingListerWatcher.typed(client,
                params -> apps.listNamespacedDeployment("released").resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).buildCall(null),
                V1Deployment.class, V1DeploymentList.class), V1Deployment.class, 0);
        factory.startAllRegisteredInformers();
        try {
            ChildProcess.await("the informer synced", Duration.ofSeconds(30), Duration.ofMillis(50), informer::hasSynced);
            assertEquals(3, informer.getIndexer().list().size());
            plane.kubectl("-n", "released", "scale", "deployment", "d-1", "--replicas=2");
            ChildProcess.await("the scale seen through the watch", Duration.ofSeconds(30), Duration.ofMillis(50),
                    () -> informer.getIndexer().getByKey("released/d-1").getSpec().getReplicas() == 2);
        } finally {
            factory.stopAllRegisteredInformers();
        }
    }
}
