package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.FaultFigures;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * SASL/SCRAM-SHA-512 over TLS (SASL_SSL, the broker's certificate checked against a CA from the Secret) through a
 * TriggerAuthentication, against a real broker; then the
 * password rotated on the broker and in the Secret. No password reaches a status, an Event or a log line (every log
 * event of this JVM is captured and searched).
 */
@WithKafka(scramUsers = "alice=alice-secret", saslTls = true)
@WithControlPlane
class ScramTriggerAuthenticationTest {

    @Test
    void triggerAuthenticationSecretsReachTheBrokerAndNeverTheStatus(EmbeddedKafka kafka, LocalControlPlane plane)
            throws Exception {
        OperatorTestSupport k = new OperatorTestSupport(plane);
        String ns = "scram";
        k.setUp(ns, kafka.bootstrapServers(), "secured-events", 1);
        Path ca = Files.createTempFile(plane.directory(), "kafka-ca-", ".crt");
        Files.writeString(ca, kafka.caPem());
        plane.kubectl("-n", ns, "create", "secret", "generic", "kafka-credentials", "--from-literal=sasl=scram_sha512",
                "--from-literal=username=alice", "--from-literal=password=alice-secret", "--from-literal=tls=enable",
                "--from-file=ca=" + ca);
        k.apply(ns, """
                apiVersion: keda.sh/v1alpha1
                kind: TriggerAuthentication
                metadata: {name: kafka-auth}
                spec:
                  secretTargetRef:
                  - {parameter: sasl, name: kafka-credentials, key: sasl}
                  - {parameter: username, name: kafka-credentials, key: username}
                  - {parameter: password, name: kafka-credentials, key: password}
                  - {parameter: tls, name: kafka-credentials, key: tls}
                  - {parameter: ca, name: kafka-credentials, key: ca}
                """);
        // A short pollingInterval: a changed Secret is read at the trigger's next poll (Secrets are read, not watched).
        String so = OperatorTestSupport.seed(kafka.saslBootstrapServers(), "secured-events", "pollingInterval: 5", "")
                + "    authenticationRef:\n      name: kafka-auth\n";
        StringBuffer logs = new StringBuffer();
        Object capture = LogCapture.start(logs);
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
                    "--from-literal=sasl=scram_sha512", "--from-literal=username=alice", "--from-literal=password=alice-secret",
                    "--from-literal=tls=enable", "--from-file=ca=" + ca);
            k.apply(other, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ClusterTriggerAuthentication
                    metadata: {name: kafka-cluster-auth}
                    spec:
                      secretTargetRef:
                      - {parameter: sasl, name: kafka-credentials, key: sasl}
                      - {parameter: username, name: kafka-credentials, key: username}
                      - {parameter: password, name: kafka-credentials, key: password}
                      - {parameter: tls, name: kafka-credentials, key: tls}
                      - {parameter: ca, name: kafka-credentials, key: ca}
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
                    stringData: {sasl: scram_sha512, username: alice, password: wrong-password, tls: enable}
                    """);
            ChildProcess.await("the auth failure reported", Duration.ofSeconds(90), Duration.ofMillis(300),
                    () -> k.condition(ns, "Ready", "message").contains("AUTH_FAILED"));

            // Rotation: the broker gets a new password for alice, then the Secret does; scaling goes on with it.
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("alice",
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "alice-rotated-7"))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            long rotated = System.nanoTime();
            k.apply(ns, """
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: kafka-credentials}
                    stringData: {sasl: scram_sha512, username: alice, password: alice-rotated-7, tls: enable}
                    """);
            // The Secret is read on demand: the next reconcile (woken by the failing trigger's polls) uses it.
            ChildProcess.await("measured again with the rotated password", Duration.ofSeconds(90), Duration.ofMillis(200),
                    () -> k.condition(ns, "Ready", "status").equals("True"));
            long recovered = (System.nanoTime() - rotated) / 1_000_000;
            plane.kubectl("-n", ns, "scale", "deployment", "consumer-deployment", "--replicas=0");
            KafkaTestData.produce(kafka.bootstrapServers(), "secured-events", 1, 2);
            ChildProcess.await("activated with the rotated password", Duration.ofSeconds(60), Duration.ofMillis(200),
                    () -> k.replicas(ns) >= 1);

            String everything = k.get(ns, "scaledobject", "kafka-scaledobject").toString()
                    + k.get(other, "scaledobject", "kafka-scaledobject").toString()
                    + plane.kubectl("get", "events", "-A", "-o", "json") + logs;
            for (String secret : List.of("wrong-password", "alice-secret", "alice-rotated-7")) {
                assertFalse(everything.contains(secret), "a password in a status, an Event or a log line: " + secret);
            }
            FaultFigures.record("scram-secret-rotation", Map.of("rotation_to_ready_ms", recovered,
                    "log_lines_checked", logs.toString().split("\n").length,
                    "passwords_in_logs_status_events", 0));
        } finally {
            LogCapture.stop(capture);
        }
    }

    private static io.kubernetes.client.openapi.ApiClient clientFor(LocalControlPlane plane) throws Exception {
        var client = plane.apiClient();
        client.setReadTimeout(0);
        return client;
    }
}
