package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: kube-apiserver restarted, then etcd restarted (SIGKILL, same flags and data), under a running operator.
 * It must reconnect by itself and converge: the next records activate the target, draining returns it to zero, the
 * finalizer stays and exactly one HPA exists for the object.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class ControlPlaneRestartFaultTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void operatorReconnectsAndConvergesAfterApiserverAndEtcdRestarts(EmbeddedKafka kafka, LocalControlPlane plane)
            throws Exception {
        String ns = "fault-restart";
        String topic = "fault-restart-events";
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=1");
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "restart-group", Map.of(new TopicPartition(topic, 0), 0L));
        Map<String, Object> figures = new LinkedHashMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)));
             // A lease longer than the restart (whose unready time grows with the machine's load: over the 4 s
             // renew deadline of the default 6 s lease on a busy 2-core machine), so the case measures reconnection
             // and convergence, not lease timing (the leader-kill cases measure that).
             Operator operator = FaultSupport.operator(plane, engine, dev.lagscaler.controller.OperatorConfig
                     .defaults("fault-restart").withNamespace("lagscaler-fault-restart")
                     .withLeaseDuration(Duration.ofSeconds(20)))) {
            operator.start();
            ChildProcess.await("leadership", Duration.ofSeconds(30), Duration.ofMillis(100), operator::isLeader);
            FaultSupport.apply(plane, ns, FaultSupport.scaledObject(kafka.bootstrapServers(), "restart-group", topic, ""));
            ChildProcess.await("scaled to zero", Duration.ofSeconds(60), Duration.ofMillis(200), () -> FaultSupport.replicas(plane, ns) == 0);
            long produced = 0;
            for (String component : new String[] {"kube-apiserver", "etcd"}) {
                Duration unready = plane.restart(component);
                long back = System.nanoTime();
                KafkaTestData.produce(kafka.bootstrapServers(), topic, 0, 5);
                produced += 5;
                ChildProcess.await("activation after the " + component + " restart", Duration.ofSeconds(90),
                        Duration.ofMillis(100), () -> FaultSupport.replicas(plane, ns) >= 1);
                long activated = (System.nanoTime() - back) / 1_000_000;
                KafkaTestData.commit(kafka.bootstrapServers(), "restart-group", Map.of(new TopicPartition(topic, 0), produced));
                ChildProcess.await("back to zero after the " + component + " restart", Duration.ofSeconds(90),
                        Duration.ofMillis(100), () -> FaultSupport.replicas(plane, ns) == 0);
                long converged = (System.nanoTime() - back) / 1_000_000;
                figures.put(component + "_unready_ms", unready.toMillis());
                figures.put(component + "_records_to_replicas_ms", activated);
                figures.put(component + "_records_to_zero_again_ms", converged);
            }
            JsonNode so = JSON.readTree(plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o", "json"));
            assertTrue(so.path("metadata").path("finalizers").toString().contains("finalizer.keda.sh"), so.toString());
            JsonNode hpas = JSON.readTree(plane.kubectl("-n", ns, "get", "hpa", "-o", "json")).path("items");
            assertEquals(1, hpas.size(), "exactly one HPA, none orphaned or duplicated: " + hpas);
            assertTrue(operator.isLeader(), "the operator kept its leadership through the restarts");
            figures.put("finalizer_kept", true);
            figures.put("hpas_for_one_object", hpas.size());
        }
        FaultFigures.record("control-plane-restart", figures);
    }

}
