package dev.lagscaler.controller;

import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.metrics.OperatorMetrics;
import dev.lagscaler.shard.ShardRing;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.kubernetes.client.openapi.ApiClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * With the apiserver filtering, a replica whose share shrinks restarts its caches on the smaller share and never
 * reconciles what left it again: its series for those objects must go, not stay beside the new owner's. Nothing
 * changes the objects here; what removes them is the restarted HPA cache, whose first list wakes every HPA's owner by
 * name, and an owner absent from the new caches is forgotten.
 */
@WithKafka
@WithControlPlane
class ShardLeavingTest {
    private static final int OBJECTS = 12;

    @Test
    void whatLeavesAShareLeavesItsOldOwnersSeries(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        OperatorTestSupport support = new OperatorTestSupport(plane);
        String ns = "leaving";
        support.setUp(ns, kafka.bootstrapServers(), "leaving-events", 1);
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < OBJECTS; i++) {
            yaml.append(dev.lagscaler.testing.Manifests.consumerAndScaledObject(i, 1, "minReplicaCount: 1",
                    kafka.bootstrapServers(), "my-group", "leaving-events", 50));
        }
        support.apply(ns, yaml.toString());
        Map<String, String> uids = new TreeMap<>(); // name -> uid
        for (var so : new com.fasterxml.jackson.databind.ObjectMapper().readTree(plane.kubectl("-n", ns, "get",
                "scaledobjects", "-o", "json")).path("items")) {
            uids.put(so.path("metadata").path("name").asText(), so.path("metadata").path("uid").asText());
        }

        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)))) {
            PrometheusRegistry first = new PrometheusRegistry();
            Operator a = operator(plane, engine, "leave-a", first);
            Operator b = null;
            try {
                a.start();
                ChildProcess.await("leave-a reports every object", Duration.ofSeconds(60), Duration.ofMillis(200),
                        () -> reported(first, ns).equals(uids.keySet()));

                PrometheusRegistry second = new PrometheusRegistry();
                b = operator(plane, engine, "leave-b", second);
                b.start();
                ShardRing two = ShardRing.of(List.of("leave-a", "leave-b"));
                Set<String> ofA = share(uids, two, "leave-a");
                Set<String> ofB = share(uids, two, "leave-b");
                Operator joined = b;
                ChildProcess.await("both settled", Duration.ofSeconds(60), Duration.ofMillis(100),
                        () -> a.shardSettled() && joined.shardSettled() && a.shardMembers().size() == 2);
                ChildProcess.await("leave-b reports its share " + ofB, Duration.ofSeconds(60), Duration.ofMillis(200),
                        () -> reported(second, ns).equals(ofB));
                ChildProcess.await("leave-a reports only its share " + ofA, Duration.ofSeconds(30), Duration.ofMillis(200),
                        () -> reported(first, ns).equals(ofA));
            } finally {
                if (b != null) {
                    b.close();
                }
                a.close();
            }
        }
    }

    private static Operator operator(LocalControlPlane plane, LagEngine engine, String identity, PrometheusRegistry registry)
            throws Exception {
        ApiClient client = plane.apiClient();
        client.setReadTimeout(0);
        return new Operator(client, client, engine, OperatorConfig.defaults(identity).withNamespace("lagscaler-leaving")
                .withLeaseDuration(Duration.ofSeconds(3)).withSharding(new OperatorConfig.Sharding(true)),
                MetricsSink.NONE, new OperatorMetrics(registry, false));
    }

    private static Set<String> share(Map<String, String> uids, ShardRing ring, String member) {
        Set<String> names = new TreeSet<>();
        uids.forEach((name, uid) -> {
            if (member.equals(ring.owner(uid))) {
                names.add(name);
            }
        });
        return names;
    }

    /** The ScaledObjects of {@code namespace} whose replicas this operator reports. */
    private static Set<String> reported(PrometheusRegistry registry, String namespace) {
        Set<String> names = new TreeSet<>();
        registry.scrape().stream().filter(m -> m.getMetadata().getPrometheusName().equals("lagscaler_scaledobject_current_replicas"))
                .forEach(m -> ((GaugeSnapshot) m).getDataPoints().forEach(p -> {
                    if (namespace.equals(p.getLabels().get("namespace"))) {
                        names.add(p.getLabels().get("scaledobject"));
                    }
                }));
        return names;
    }
}
