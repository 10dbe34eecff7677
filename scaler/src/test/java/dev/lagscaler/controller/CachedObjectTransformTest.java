package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1ManagedFieldsEntry;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the informers keep of an object: everything the operator reads, without managedFields. */
class CachedObjectTransformTest {
    private static final String METADATA = """
            {"name": "orders", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
             "labels": {"team": "payments"}, "annotations": {"autoscaling.keda.sh/paused": "true"},
             "finalizers": ["finalizer.keda.sh"],
             "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "orders",
                                  "uid": "so-1", "controller": true}],
             "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "keda.sh/v1alpha1",
                                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:triggers": {}}}}]}""";

    @Test
    void aScaledObjectKeepsAllButItsManagedFields() {
        JsonObject raw = JsonParser.parseString("""
                {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": %s,
                 "spec": {"scaleTargetRef": {"name": "consumer"}}, "status": {"hpaName": "keda-hpa-orders"}}"""
                .formatted(METADATA)).getAsJsonObject();
        JsonObject expected = raw.deepCopy();
        expected.getAsJsonObject("metadata").remove("managedFields");

        DynamicKubernetesObject cached = (DynamicKubernetesObject) ClusterCaches.compactResource(
                new DynamicKubernetesObject(raw));
        assertEquals(expected, cached.getRaw());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(cached.getRaw().keySet()), "members keep their order");
    }

    @Test
    void aCachedScaledObjectHoldsItsStatusAsTextAndReadsBackWhole() throws Exception {
        String so = """
                {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": %s,
                 "spec": {"scaleTargetRef": {"name": "consumer"}, "triggers": [{"type": "kafka", "metadata": {"topic": "t"}}]},
                 "status": {"hpaName": "keda-hpa-orders", "externalMetricNames": ["s0-kafka-t"],
                            "conditions": [{"type": "Ready", "status": "True", "reason": "ScaledObjectReady",
                                            "message": "ScaledObject is defined correctly and is ready for scaling",
                                            "lastTransitionTime": "2026-12-08T01:38:54Z"}],
                            "health": {"s0-kafka-t": {"numberOfFailures": 0, "status": "Happy"}}}}""".formatted(METADATA);
        JsonObject expected = JsonParser.parseString(so).getAsJsonObject();
        expected.getAsJsonObject("metadata").remove("managedFields");

        DynamicKubernetesObject cached = (DynamicKubernetesObject) ClusterCaches.packScaledObject(
                new DynamicKubernetesObject(JsonParser.parseString(so).getAsJsonObject()));
        assertFalse(cached.getRaw().has("status"), "the tree holds no status");
        assertFalse(cached.getRaw().getAsJsonObject("metadata").has("managedFields"));
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals(mapper.readTree(expected.toString()), ClusterCaches.json(cached), "read back whole");
        assertSame(cached, ClusterCaches.packScaledObject(cached), "a resync passes it through unchanged");

        JsonObject noStatus = JsonParser.parseString(so).getAsJsonObject();
        noStatus.remove("status");
        var read = ClusterCaches.json((DynamicKubernetesObject) ClusterCaches.packScaledObject(
                new DynamicKubernetesObject(noStatus.deepCopy())));
        assertFalse(read.has("status"), read.toString());
    }

    @Test
    void twoCachedObjectsShareTheirKeysAndShortValues() {
        String so = """
                {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": %s,
                 "spec": {"scaleTargetRef": {"name": "consumer"}, "triggers": [{"type": "kafka", "metadata": {"topic": "t"}}]},
                 "status": {"conditions": [{"type": "Ready", "status": "True", "message": "%s"}]}}""";
        // Parsed apart, as two list or watch answers are: equal Strings, different instances.
        JsonObject one = ((DynamicKubernetesObject) ClusterCaches.compactResource(new DynamicKubernetesObject(
                JsonParser.parseString(so.formatted(METADATA, "a message longer than a short value")).getAsJsonObject()))).getRaw();
        JsonObject two = ((DynamicKubernetesObject) ClusterCaches.compactResource(new DynamicKubernetesObject(
                JsonParser.parseString(so.formatted(METADATA, "a message longer than a short value")).getAsJsonObject()))).getRaw();

        assertSame(key(one, "status"), key(two, "status"));
        JsonObject ready = one.getAsJsonObject("status").getAsJsonArray("conditions").get(0).getAsJsonObject();
        JsonObject readyToo = two.getAsJsonObject("status").getAsJsonArray("conditions").get(0).getAsJsonObject();
        assertSame(key(ready, "type"), key(readyToo, "type"), "keys in arrays too");
        assertSame(ready.get("status").getAsString(), readyToo.get("status").getAsString(), "a short value");
        assertNotSame(ready.get("message").getAsString(), readyToo.get("message").getAsString(),
                "a long value (a message, a timestamp) is left as it is");
        JsonObject trigger = one.getAsJsonObject("spec").getAsJsonArray("triggers").get(0).getAsJsonObject();
        assertSame("kafka", trigger.get("type").getAsString(), "interned: the same instance as the literal");
    }

    /** The key instance a JSON object holds for {@code name}. */
    private static String key(JsonObject object, String name) {
        return object.keySet().stream().filter(name::equals).findFirst().orElseThrow();
    }

    @Test
    void aTypedObjectKeepsAllButItsManagedFields() {
        V2HorizontalPodAutoscaler hpa = new JSON().deserialize("""
                {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": %s,
                 "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "consumer"}, "maxReplicas": 5}}"""
                .formatted(METADATA), V2HorizontalPodAutoscaler.class);
        // client-java 25's typed models come out of this JSON without them (so the typed caches held none in the
        // class histograms either); an entry set in code stands for one that would arrive.
        hpa.getMetadata().addManagedFieldsItem(new V1ManagedFieldsEntry().manager("kubectl").operation("Apply"));
        assertFalse(hpa.getMetadata().getManagedFields().isEmpty());

        V2HorizontalPodAutoscaler cached = (V2HorizontalPodAutoscaler) ClusterCaches.withoutManagedFields(hpa);
        assertNull(cached.getMetadata().getManagedFields());
        assertEquals("so-1", cached.getMetadata().getOwnerReferences().get(0).getUid());
        assertEquals("true", cached.getMetadata().getAnnotations().get("autoscaling.keda.sh/paused"));
        assertEquals("payments", cached.getMetadata().getLabels().get("team"));
        assertEquals(5, cached.getSpec().getMaxReplicas());
    }

    @Test
    void aTargetKeepsItsReplicasVersionAndItsContainersEnvironmentOnly() {
        V1Deployment full = new JSON().deserialize("""
                {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "consumer", "namespace": "shop", "uid": "d-1", "resourceVersion": "77", "generation": 4,
                              "labels": {"app": "consumer"},
                              "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\\"a whole copy\\": 1}"}},
                 "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "consumer"}},
                          "strategy": {"type": "RollingUpdate"},
                          "template": {"metadata": {"labels": {"app": "consumer"}},
                                       "spec": {"volumes": [{"name": "data", "emptyDir": {}}],
                                                "containers": [{"name": "main", "image": "consumer:1",
                                                    "args": ["--fast"], "ports": [{"containerPort": 8080}],
                                                    "env": [{"name": "BROKERS", "value": "kafka:9092"}],
                                                    "envFrom": [{"secretRef": {"name": "kafka-auth"}}],
                                                    "resources": {"requests": {"cpu": "250m"}}}]}}},
                 "status": {"replicas": 0, "observedGeneration": 4,
                            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}}""",
                V1Deployment.class);

        String env = new JSON().serialize(full.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv());

        V1Deployment cached = (V1Deployment) ClusterCaches.slimTarget(full);
        // The object itself, not a copy: client-java's reflector holds its first list as long as it watches.
        assertSame(full, cached);
        assertEquals("shop", cached.getMetadata().getNamespace());
        assertEquals("consumer", cached.getMetadata().getName());
        assertEquals("77", cached.getMetadata().getResourceVersion());
        assertEquals(0, cached.getSpec().getReplicas());
        V1Container main = cached.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals("main", main.getName());
        assertEquals("kafka:9092", main.getEnv().get(0).getValue());
        assertEquals("kafka-auth", main.getEnvFrom().get(0).getSecretRef().getName());
        // The environment ScaleTargets hands a trigger is the same from the cached object as from the full one.
        assertEquals(env, new JSON().serialize(main.getEnv()));
        // What nothing reads is gone.
        assertNull(cached.getStatus());
        assertNone(cached.getMetadata().getAnnotations());
        assertNone(cached.getMetadata().getLabels());
        assertNull(cached.getSpec().getSelector());
        assertNull(cached.getSpec().getTemplate().getMetadata());
        assertNone(cached.getSpec().getTemplate().getSpec().getVolumes());
        assertNull(main.getImage());
        assertNull(main.getResources());
        assertNone(main.getArgs());
    }

    @Test
    void aTargetWhoseContainersHaveNoEnvironmentKeepsNoTemplate() {
        V1Deployment full = new JSON().deserialize("""
                {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "consumer", "namespace": "shop", "resourceVersion": "78"},
                 "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "consumer"}},
                          "template": {"spec": {"containers": [{"name": "main", "image": "consumer:1"}]}}}}""",
                V1Deployment.class);
        V1Deployment cached = (V1Deployment) ClusterCaches.slimTarget(full);
        assertEquals(3, cached.getSpec().getReplicas());
        assertNull(cached.getSpec().getTemplate(), "no env to read: the template goes (the environment is empty either way)");
    }

    @Test
    void anHpaKeepsItsSpecAndReplicaCountsButNotItsConditionsOrMetricValues() {
        V2HorizontalPodAutoscaler hpa = new JSON().deserialize("""
                {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": %s,
                 "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "consumer"}, "maxReplicas": 5},
                 "status": {"currentReplicas": 2, "desiredReplicas": 3,
                            "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale",
                                            "message": "the HPA controller was able to update the target scale to 3"}],
                            "currentMetrics": [{"type": "External", "external": {"metric": {"name": "s0-kafka-events"},
                                                "current": {"averageValue": "120"}}}]}}"""
                .formatted(METADATA), V2HorizontalPodAutoscaler.class);

        V2HorizontalPodAutoscaler cached = (V2HorizontalPodAutoscaler) ClusterCaches.slimHpa(hpa);
        assertEquals(3, cached.getStatus().getDesiredReplicas());
        assertEquals(2, cached.getStatus().getCurrentReplicas());
        assertNone(cached.getStatus().getConditions());
        assertNone(cached.getStatus().getCurrentMetrics());
        assertEquals(5, cached.getSpec().getMaxReplicas());
        assertEquals("so-1", cached.getMetadata().getOwnerReferences().get(0).getUid());
        assertEquals("payments", cached.getMetadata().getLabels().get("team"));
        assertNone(cached.getMetadata().getManagedFields());
    }

    /** client-java's models start their collections empty: none is null or empty. */
    private static void assertNone(Object collection) {
        assertTrue(collection == null || (collection instanceof java.util.Collection<?> c && c.isEmpty())
                || (collection instanceof java.util.Map<?, ?> m && m.isEmpty()), "expected none: " + collection);
    }
}
