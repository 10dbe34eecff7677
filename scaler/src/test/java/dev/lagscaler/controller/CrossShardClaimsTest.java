package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.plan.TargetClaims;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The claims of other shards' ScaledObjects on a target, read from the real apiserver a page at a time. */
@WithControlPlane
class CrossShardClaimsTest {
    @Test
    void anotherObjectOnTheTargetIsFoundOnAnyPage(LocalControlPlane plane) throws Exception {
        plane.kubectl("create", "namespace", "claims");
        StringBuilder yaml = new StringBuilder();
        // Seven objects, three pages of 3: names sort as listed, so the workload's two claimants sit on the first
        // and the last page.
        for (int i = 0; i < 7; i++) {
            String target = i == 0 || i == 6 ? "shared" : "own-" + i;
            yaml.append("""
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledObject
                    metadata: {name: so-%d}
                    spec:
                      scaleTargetRef: {name: %s}
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "localhost:9092", consumerGroup: g, topic: t, lagThreshold: "5"}
                    ---
                    """.formatted(i, target));
        }
        new OperatorTestSupport(plane).apply("claims", yaml.toString());
        JsonNode first = new ObjectMapper().readTree(plane.kubectl("-n", "claims", "get", "scaledobject", "so-0", "-o", "json"));
        String uid = first.path("metadata").path("uid").asText();
        // Claims are read only after an object's creation (plus a clock margin): ask as if a few seconds later.
        Instant created = Instant.parse(first.path("metadata").path("creationTimestamp").asText());
        Clock clock = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(5));

        CrossShardClaims claims = new CrossShardClaims(plane.apiClient(), clock, 3);
        List<TargetClaims.OtherScaledObject> others = claims.others("claims", "so-0", uid, created, "Deployment", "shared");
        assertEquals(List.of("so-6"), others.stream().map(TargetClaims.OtherScaledObject::name).toList(),
                "the other object on the workload, from the last of three pages");
        assertTrue(claims.others("claims", "so-3", "uid-3", created, "Deployment", "own-3").isEmpty(),
                "nobody else on its own workload");
    }
}
