package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** SASL/SCRAM-SHA-512 credentials from a Secret through a TriggerAuthentication, against a SCRAM broker. */
@WithKafka(scramUsers = "alice=alice-secret")
@WithControlPlane
class ScramTriggerAuthenticationTest {

    @Test
    void triggerAuthenticationSecretsReachTheBrokerAndNeverTheStatus(EmbeddedKafka kafka, LocalControlPlane plane)
            throws Exception {
        OperatorTestSupport k = new OperatorTestSupport(plane);
        String ns = "scram";
        k.setUp(ns, kafka.bootstrapServers(), "secured-events", 1);
        plane.kubectl("-n", ns, "create", "secret", "generic", "kafka-credentials", "--from-literal=sasl=scram_sha512",
                "--from-literal=username=alice", "--from-literal=password=alice-secret");
        k.apply(ns, """
                apiVersion: keda.sh/v1alpha1
                kind: TriggerAuthentication
                metadata: {name: kafka-auth}
                spec:
                  secretTargetRef:
                  - {parameter: sasl, name: kafka-credentials, key: sasl}
                  - {parameter: username, name: kafka-credentials, key: username}
                  - {parameter: password, name: kafka-credentials, key: password}
                """);
        String so = OperatorTestSupport.seed(kafka.saslBootstrapServers(), "secured-events", "", "")
                + "    authenticationRef:\n      name: kafka-auth\n";
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(clientFor(plane), engine, OperatorConfig.defaults("scram-operator")
                     .withNamespace("lagscaler-scram").withFastActivationInterval(Duration.ofMillis(500)))) {
            operator.start();
            k.apply(ns, so);
            ChildProcess.await("measured through SCRAM: drained, so scaled to zero", Duration.ofSeconds(60),
                    Duration.ofMillis(200), () -> k.replicas(ns) == 0 && k.condition(ns, "Ready", "status").equals("True"));
            KafkaTestData.produce(kafka.bootstrapServers(), "secured-events", 2, 3);
            ChildProcess.await("activated through SCRAM", Duration.ofSeconds(60), Duration.ofMillis(200), () -> k.replicas(ns) == 1);

            // The same credentials through a ClusterTriggerAuthentication: its Secret lives in the operator's namespace.
            String other = "scram-cluster-auth";
            k.setUp(other, kafka.bootstrapServers(), "cluster-auth-events", 1);
            plane.kubectl("-n", "lagscaler-scram", "create", "secret", "generic", "kafka-credentials",
                    "--from-literal=sasl=scram_sha512", "--from-literal=username=alice", "--from-literal=password=alice-secret");
            k.apply(other, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ClusterTriggerAuthentication
                    metadata: {name: kafka-cluster-auth}
                    spec:
                      secretTargetRef:
                      - {parameter: sasl, name: kafka-credentials, key: sasl}
                      - {parameter: username, name: kafka-credentials, key: username}
                      - {parameter: password, name: kafka-credentials, key: password}
                    """);
            k.apply(other, OperatorTestSupport.seed(kafka.saslBootstrapServers(), "cluster-auth-events", "", "")
                    + "    authenticationRef:\n      name: kafka-cluster-auth\n      kind: ClusterTriggerAuthentication\n");
            ChildProcess.await("measured through the ClusterTriggerAuthentication", Duration.ofSeconds(60),
                    Duration.ofMillis(200), () -> k.replicas(other) == 0 && k.condition(other, "Ready", "status").equals("True"));

            // A wrong password is a Ready=False TriggerError that never shows the password.
            k.apply(ns, """
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: kafka-credentials}
                    stringData: {sasl: scram_sha512, username: alice, password: wrong-password}
                    """);
            ChildProcess.await("the auth failure reported", Duration.ofSeconds(90), Duration.ofMillis(300),
                    () -> k.condition(ns, "Ready", "message").contains("AUTH_FAILED"));
            String everything = k.get(ns, "scaledobject", "kafka-scaledobject").toString()
                    + plane.kubectl("-n", ns, "get", "events", "-o", "json");
            assertFalse(everything.contains("wrong-password"), "no secret in status or Events");
            assertFalse(everything.contains("alice-secret"), "no secret in status or Events");
        }
    }

    private static io.kubernetes.client.openapi.ApiClient clientFor(LocalControlPlane plane) throws Exception {
        var client = plane.apiClient();
        client.setReadTimeout(0);
        return client;
    }
}
