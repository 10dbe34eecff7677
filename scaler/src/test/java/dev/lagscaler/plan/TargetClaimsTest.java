package dev.lagscaler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Who may scale a target, as KEDA's webhook decides it, over the cases a cutover meets. */
class TargetClaimsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");
    private static final String UID = "so-uid";

    private static ScaledObjectSpec spec(String annotations, String hpaName) throws Exception {
        return ScaledObjectParser.parse(YAML.readTree("""
                metadata: {name: orders, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z", annotations: {%s}}
                spec:
                  scaleTargetRef: {name: consumer}
                  advanced: {horizontalPodAutoscalerConfig: {name: "%s"}}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t}}]
                """.formatted(annotations, hpaName)));
    }

    private static TargetClaims.SeenHpa hpa(String name, String ownerUid, String ownerName, String target) {
        return new TargetClaims.SeenHpa(name, name + "-uid", ownerUid, ownerName, "Deployment", target);
    }

    @Test
    void whatStopsAScaledObject() throws Exception {
        record Row(String what, ScaledObjectSpec spec, List<TargetClaims.OtherScaledObject> others,
                   List<TargetClaims.SeenHpa> hpas, String conflict) {
        }
        ScaledObjectSpec plain = spec("", "");
        ScaledObjectSpec named = spec("", "my-hpa");
        ScaledObjectSpec transfer = spec("scaledobject.keda.sh/transfer-hpa-ownership: \"true\"", "my-hpa");
        for (Row row : List.of(
                new Row("alone", plain, List.of(), List.of(), null),
                new Row("KEDA's HPA, owned by this object's uid: adopted", plain, List.of(),
                        List.of(hpa("keda-hpa-orders", UID, "orders", "consumer")), null),
                new Row("its own HPA under a former name: deleted by the plan, no conflict", named, List.of(),
                        List.of(hpa("keda-hpa-orders", UID, "orders", "consumer")), null),
                new Row("a user's HPA on the target", plain, List.of(), List.of(hpa("consumer", null, null, "consumer")),
                        "the workload 'consumer' of type 'apps/v1.Deployment' is already managed by the hpa 'consumer'"),
                new Row("an HPA on another target", plain, List.of(), List.of(hpa("other", null, null, "other")), null),
                new Row("an HPA of the name, not ours", named, List.of(), List.of(hpa("my-hpa", null, null, "consumer")),
                        "the HPA 'my-hpa' already exists and is not owned by this ScaledObject; set the annotation"
                                + " scaledobject.keda.sh/transfer-hpa-ownership: \"true\" to take it over"),
                new Row("an HPA of the name, another ScaledObject's", named, List.of(),
                        List.of(hpa("my-hpa", "x-uid", "payments", "consumer")),
                        "the HPA 'my-hpa' is already managed by the ScaledObject 'payments'"),
                new Row("an HPA of the name, transfer asked", transfer, List.of(),
                        List.of(hpa("my-hpa", null, null, "consumer")), null),
                new Row("transfer asked, but another HPA also scales the target", transfer, List.of(),
                        List.of(hpa("my-hpa", null, null, "consumer"), hpa("extra", null, null, "consumer")),
                        "the workload 'consumer' of type 'apps/v1.Deployment' is already managed by the hpa 'extra'"),
                new Row("an earlier ScaledObject on the target", plain,
                        List.of(new TargetClaims.OtherScaledObject("first", CREATED.minusSeconds(60))), List.of(),
                        "the workload 'consumer' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'first'"),
                new Row("a later ScaledObject on the target: this one keeps it", plain,
                        List.of(new TargetClaims.OtherScaledObject("later", CREATED.plusSeconds(60))), List.of(), null),
                new Row("made in the same second: the name breaks the tie", plain,
                        List.of(new TargetClaims.OtherScaledObject("alpha", CREATED),
                                new TargetClaims.OtherScaledObject("zulu", CREATED)), List.of(),
                        "the workload 'consumer' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'alpha'"))) {
            assertEquals(Optional.ofNullable(row.conflict()), TargetClaims.conflict(row.spec(), UID, row.others(), row.hpas()),
                    row.what());
        }
    }

    @Test
    void formerHpasAreTheOwnedOnesUnderAnotherName() throws Exception {
        List<TargetClaims.SeenHpa> seen = List.of(hpa("keda-hpa-orders", UID, "orders", "consumer"),
                hpa("my-hpa", UID, "orders", "consumer"), hpa("someone-elses", "x-uid", "x", "consumer"));
        assertEquals(List.of("keda-hpa-orders"),
                TargetClaims.formerHpas(spec("", "my-hpa"), UID, seen).stream().map(TargetClaims.SeenHpa::name).toList());
        assertEquals(List.of("my-hpa"),
                TargetClaims.formerHpas(spec("", ""), UID, seen).stream().map(TargetClaims.SeenHpa::name).toList());
    }
}
