package dev.lagscaler.bench;

import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each Deployment of a namespace first reached 1 and 2 desired replicas (System.nanoTime), from a watch: each
 * change is seen as the apiserver sends it, and the benchmark spends no CPU listing a thousand Deployments over and
 * over on the machine it measures.
 */
final class ReplicaWatch implements AutoCloseable {
    private final SharedInformerFactory factory;
    private final SharedIndexInformer<V1Deployment> deployments;
    private final Map<String, Long> atOne = new ConcurrentHashMap<>();
    private final Map<String, Long> atTwo = new ConcurrentHashMap<>();

    ReplicaWatch(ApiClient client, String namespace) {
        // A watch stays open for minutes: no read timeout on this client.
        ApiClient watching = client.setReadTimeout(0);
        AppsV1Api apps = new AppsV1Api(watching);
        factory = new SharedInformerFactory(watching);
        deployments = factory.sharedIndexInformerFor(params -> apps.listNamespacedDeployment(namespace)
                        .resourceVersion(params.resourceVersion).timeoutSeconds(params.timeoutSeconds)
                        .watch(params.watch).buildCall(null), V1Deployment.class, V1DeploymentList.class);
        deployments.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(V1Deployment d) {
                seen(d);
            }

            @Override
            public void onUpdate(V1Deployment before, V1Deployment d) {
                seen(d);
            }

            @Override
            public void onDelete(V1Deployment d, boolean unknown) {
            }
        });
        factory.startAllRegisteredInformers();
    }

    /** Waits until the watch has listed the namespace (changes before that are not timed). */
    void awaitSynced(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!deployments.hasSynced()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Deployments' watch did not sync within " + timeout);
            }
            Thread.sleep(50);
        }
    }

    /** Forgets what was seen so far: times count from here. */
    void reset() {
        atOne.clear();
        atTwo.clear();
    }

    private void seen(V1Deployment d) {
        long now = System.nanoTime();
        Integer replicas = d.getSpec() == null ? null : d.getSpec().getReplicas();
        if (replicas == null) {
            return;
        }
        if (replicas >= 1) {
            atOne.putIfAbsent(d.getMetadata().getName(), now);
        }
        if (replicas >= 2) {
            atTwo.putIfAbsent(d.getMetadata().getName(), now);
        }
    }

    /** Deployment name → when it was first seen at 1 or more replicas since the last reset. */
    Map<String, Long> atOne() {
        return atOne;
    }

    /** Deployment name → when it was first seen at 2 or more replicas since the last reset. */
    Map<String, Long> atTwo() {
        return atTwo;
    }

    @Override
    public void close() {
        factory.stopAllRegisteredInformers();
    }
}
