package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesListObject;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import java.time.Duration;
import java.util.List;
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
        java.util.concurrent.atomic.AtomicInteger lists = new java.util.concurrent.atomic.AtomicInteger();
        ReleasingListerWatcher<V1Deployment, V1DeploymentList> listerWatcher = ReleasingListerWatcher.typed(client,
                (params, limit, next) -> {
                    if (!Boolean.TRUE.equals(params.watch)) {
                        lists.incrementAndGet();
                    }
                    return apps.listNamespacedDeployment("released").resourceVersion(params.resourceVersion)
                            .timeoutSeconds(params.timeoutSeconds).watch(params.watch).limit(limit)._continue(next)
                            .buildCall(null);
                }, V1Deployment.class, V1DeploymentList.class, ClusterCaches::slimTarget, 2);

        // The calls as the reflector makes them: a first list at version "0", then a watch from its version. Read two
        // a page, each page slimmed as it came: three Deployments in two requests, none with its pod template.
        V1DeploymentList list = listerWatcher.list(new CallGeneratorParams(false, "0", null));
        assertEquals(3, list.getItems().size());
        assertEquals(2, lists.get(), "pages read");
        assertTrue(list.getItems().stream().allMatch(d -> d.getSpec().getTemplate() == null && d.getStatus() == null),
                "slimmed as read");
        assertTrue(list.getMetadata().getContinue() == null, "no continue token left on the whole list");
        try (var watch = listerWatcher.watch(new CallGeneratorParams(true, list.getMetadata().getResourceVersion(), 5))) {
            assertTrue(list.getItems().isEmpty(), "the list it returned holds nothing once the watch starts");
        }

        // A custom resource's list, whose items are wrappers made anew at each call over one JSON tree: the wrappers
        // the reflector took and the tree's items both go.
        new OperatorTestSupport(plane).apply("released", """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: released-so}
                spec:
                  scaleTargetRef: {name: d-0}
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "localhost:9092", consumerGroup: g, topic: t, lagThreshold: "5"}
                """);
        ReleasingListerWatcher<DynamicKubernetesObject, DynamicKubernetesListObject> dynamic = ReleasingListerWatcher.dynamic(
                new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.SCALED_OBJECTS, client));
        DynamicKubernetesListObject objects = dynamic.list(new CallGeneratorParams(false, null, null));
        List<DynamicKubernetesObject> taken = objects.getItems();
        assertTrue(taken.stream().anyMatch(so -> so.getMetadata().getName().equals("released-so")));
        assertSame(taken, objects.getItems(), "the same wrappers each time");
        try (var watch = dynamic.watch(new CallGeneratorParams(true, objects.getMetadata().getResourceVersion(), 5))) {
            assertTrue(taken.isEmpty(), "the wrappers taken before the watch are let go");
            assertEquals(0, objects.getRaw().getAsJsonArray("items").size(), "and so are the tree's items");
        }

        // And as an informer's: every object cached, and a change after the list still arrives through the watch.
        SharedInformerFactory factory = new SharedInformerFactory(client);
        SharedIndexInformer<V1Deployment> informer = factory.sharedIndexInformerFor(ReleasingListerWatcher.typed(client,
                (params, limit, next) -> apps.listNamespacedDeployment("released").resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).limit(limit)._continue(next)
                        .buildCall(null),
                V1Deployment.class, V1DeploymentList.class, ClusterCaches::slimTarget, 2), V1Deployment.class, 0);
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
