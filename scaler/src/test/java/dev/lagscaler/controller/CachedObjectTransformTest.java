package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1ManagedFieldsEntry;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
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

        DynamicKubernetesObject cached = (DynamicKubernetesObject) ClusterCaches.withoutManagedFields(
                new DynamicKubernetesObject(raw));
        assertEquals(expected, cached.getRaw());
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
}
