package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Two operator processes (the image's entry point, {@link OperatorCommand#main}): one leads; kill it and the other takes over and keeps scaling. */
@WithKafka
@WithControlPlane
class LeaderElectionTest {
    private static final String LEASE_NAMESPACE = "lagscaler-ha";

    @Test
    void secondOperatorTakesOverWhenTheLeaderDies(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        OperatorTestSupport k = new OperatorTestSupport(plane);
        String ns = "ha";
        k.setUp(ns, kafka.bootstrapServers(), "ha-events", 1);
        Path logs = Files.createTempDirectory("operators-");
        Map<String, Process> operators = new java.util.HashMap<>();
        try {
            for (String id : List.of("op-a", "op-b")) {
                operators.put(id, ChildProcess.start(List.of(ChildProcess.javaExecutable(), "-cp", ChildProcess.absoluteClassPath(),
                        OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(),
                        "--namespace", LEASE_NAMESPACE, "--identity", id, "--fast-activation-interval", "500ms",
                        "--metrics-feed", "127.0.0.1:0"),
                        logs, logs.resolve(id + ".log")));
            }
            ChildProcess.await("a lease holder", Duration.ofSeconds(60), Duration.ofMillis(200), () -> !holder(plane).isEmpty());
            String leader = holder(plane);
            k.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "ha-events", "", ""));
            ChildProcess.await("the leader scales to zero", Duration.ofSeconds(60), Duration.ofMillis(200), () -> k.replicas(ns) == 0);

            long killed = System.nanoTime();
            operators.get(leader).destroyForcibly().waitFor();
            String follower = leader.equals("op-a") ? "op-b" : "op-a";
            try {
                ChildProcess.await("the follower to take the lease", Duration.ofSeconds(45), Duration.ofMillis(200),
                        () -> holder(plane).equals(follower));
            } catch (java.io.IOException e) {
                throw new AssertionError(e.getMessage() + "; holder " + holder(plane) + "; follower log:\n"
                        + ChildProcess.tail(logs.resolve(follower + ".log"), 40), e);
            }
            System.out.println("leader takeover: " + (System.nanoTime() - killed) / 1_000_000 + " ms after the kill"
                    + " (lease duration 15 s)");
            assertNotEquals(leader, holder(plane));

            KafkaTestData.produce(kafka.bootstrapServers(), "ha-events", 0, 1);
            ChildProcess.await("the new leader activates the target", Duration.ofSeconds(60), Duration.ofMillis(200),
                    () -> k.replicas(ns) == 1);
            assertEquals(1, k.replicas(ns));
        } finally {
            operators.values().forEach(p -> ChildProcess.stop(p, Duration.ofSeconds(10)));
            ChildProcess.deleteRecursively(logs);
        }
    }

    private static String holder(LocalControlPlane plane) {
        try {
            return plane.kubectl("-n", LEASE_NAMESPACE, "get", "lease", "lagscaler-operator",
                    "-o", "jsonpath={.spec.holderIdentity}").trim();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
