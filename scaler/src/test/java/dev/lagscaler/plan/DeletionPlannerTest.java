package dev.lagscaler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What finalizing a deleted ScaledObject writes, over the cases that can remove something that works. */
class DeletionPlannerTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static JsonNode so(String finalizers, String advanced, String status) throws Exception {
        return YAML.readTree("""
                metadata: {name: orders, namespace: shop, uid: so-uid, creationTimestamp: "2026-01-01T00:00:00Z",
                           finalizers: [%s]}
                spec:
                  scaleTargetRef: {name: consumer}
                  advanced: {%s}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t}}]
                status: {%s}
                """.formatted(finalizers, advanced, status));
    }

    private static TargetClaims.SeenHpa hpa(String name, String ownerUid) {
        return new TargetClaims.SeenHpa(name, name + "-uid", ownerUid, ownerUid == null ? null : "orders", "Deployment",
                "consumer");
    }

    @Test
    void whatFinalizingWrites() throws Exception {
        record Row(String what, JsonNode so, boolean parses, List<TargetClaims.SeenHpa> hpas, List<String> deleted,
                   Integer restore, List<String> remaining) {
        }
        List<TargetClaims.SeenHpa> around = List.of(hpa("keda-hpa-orders", "so-uid"), hpa("keda-hpa-orders-old", "so-uid"),
                hpa("consumer", null), hpa("theirs", "other-uid"));
        for (Row row : List.of(
                new Row("its own HPAs go, each by uid; a user's and another object's stay",
                        so("finalizer.keda.sh", "", "originalReplicaCount: 3"), true, around,
                        List.of("keda-hpa-orders-uid", "keda-hpa-orders-old-uid"), null, List.of()),
                new Row("restoreToOriginalReplicaCount writes the original count back",
                        so("finalizer.keda.sh, other.io/keep", "restoreToOriginalReplicaCount: true",
                                "originalReplicaCount: 3"), true, List.of(), List.of(), 3, List.of("other.io/keep")),
                new Row("asked to restore, but no original count recorded: the target is left",
                        so("finalizer.keda.sh", "restoreToOriginalReplicaCount: true", ""), true, List.of(), List.of(),
                        null, List.of()),
                new Row("an object that never parsed owns nothing: only the finalizer comes off",
                        so("finalizer.keda.sh", "restoreToOriginalReplicaCount: true", "originalReplicaCount: 3"), false,
                        around, List.of(), null, List.of()),
                new Row("not our finalizer: nothing to remove", so("other.io/keep", "", ""), true, List.of(), List.of(),
                        null, null))) {
            ScaledObjectSpec spec = row.parses() ? ScaledObjectParser.parse(row.so()) : null;
            DeletionPlanner.DeletionPlan plan = DeletionPlanner.plan(row.so(), spec, row.hpas());
            assertEquals(row.deleted(), plan.hpaDeletes().stream().map(Plan.HpaChange.Delete::uid).toList(), row.what());
            assertEquals(row.restore(), plan.restoreReplicas(), row.what());
            assertEquals(row.remaining(), plan.remainingFinalizers(), row.what());
            assertEquals(row.remaining() == null ? null : "ScaledObjectDeleted",
                    plan.event() == null ? null : plan.event().reason(), row.what());
        }
    }
}
