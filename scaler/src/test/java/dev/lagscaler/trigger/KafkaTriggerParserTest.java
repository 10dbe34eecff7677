package dev.lagscaler.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class KafkaTriggerParserTest {
    private static final Map<String, String> SEED = Map.of(
            "bootstrapServers", "kafka.default.svc:9092",
            "consumerGroup", "my-group",
            "topic", "events",
            "lagThreshold", "50");

    private static Map<String, String> seedWith(String... keyValues) {
        Map<String, String> m = new HashMap<>(SEED);
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                m.remove(keyValues[i]);
            } else {
                m.put(keyValues[i], keyValues[i + 1]);
            }
        }
        return m;
    }

    private static KafkaTriggerSettings parse(Map<String, String> metadata) throws TriggerParseException {
        return KafkaTriggerParser.parse(TriggerInput.ofMetadata(metadata));
    }

    @Test
    void seedTriggerGetsKedaDefaults() throws Exception {
        KafkaTriggerSettings s = parse(SEED);
        assertEquals(List.of("kafka.default.svc:9092"), s.bootstrapServers());
        assertEquals("my-group", s.consumerGroup());
        assertEquals("events", s.topic());
        assertEquals(50, s.lagThreshold());
        assertEquals(0, s.activationLagThreshold());
        assertEquals(OffsetResetPolicy.LATEST, s.offsetResetPolicy());
        assertFalse(s.allowIdleConsumers() || s.excludePersistentLag() || s.scaleToZeroOnInvalidOffset()
                || s.limitToPartitionsWithLag() || s.ensureEvenDistributionOfPartitions());
        assertEquals("1.0.0", s.version());
        assertEquals(MetricTargetType.AVERAGE_VALUE, s.metricType());
        assertEquals(SaslMechanism.NONE, s.auth().sasl());
        assertFalse(s.auth().tls());
        assertEquals("s0-kafka-events", s.metricName(0));
    }

    @Test
    void aMisspeltParameterIsAnErrorThatNamesTheOneMeant() throws Exception {
        for (String[] row : new String[][]{
                {"lagTreshold", "lagThreshold"},
                {"lagSecondThreshold", "lagSecondsThreshold"},
                {"activationlagthreshold", "activationLagThreshold"},
                {"consumergroupFromEnv", "consumerGroupFromEnv"},
                {"ofsetResetPolicy", "offsetResetPolicy"}}) {
            TriggerParseException e = assertThrows(TriggerParseException.class, () -> parse(seedWith(row[0], "5")), row[0]);
            assertEquals("unknown parameter \"" + row[0] + "\": did you mean \"" + row[1]
                    + "\"? (as written it would be ignored)", e.getMessage());
        }
        // Keys far from every known name are ignored, as KEDA ignores them (annotations of other tools, old keys).
        assertEquals(50, parse(seedWith("teamOwner", "payments", "saslType", "plain")).lagThreshold());
        // Every known key, and its FromEnv form, passes the check.
        for (String known : KafkaParameterNames.KNOWN) {
            KafkaParameterNames.rejectTypos(List.of(known, known + "FromEnv"));
        }
    }

    @Test
    void lagThresholdDefaultsToTen() throws Exception {
        assertEquals(10, parse(seedWith("lagThreshold", null)).lagThreshold());
    }

    @Test
    void metricNamesFollowKeda() throws Exception {
        assertEquals("s2-kafka-my-group-topics", parse(seedWith("topic", null)).metricName(2));
        assertEquals("s0-kafka-orders-v1_eu", parse(seedWith("topic", "orders.v1_eu")).metricName(0));
    }

    @Test
    void bootstrapServersAreAList() throws Exception {
        assertEquals(List.of("a:9092", "b:9092"), parse(seedWith("bootstrapServers", "a:9092, b:9092")).bootstrapServers());
    }

    @Test
    void fromEnvParametersReadTheTargetContainersEnvironment() throws Exception {
        Map<String, String> metadata = seedWith("bootstrapServers", null, "bootstrapServersFromEnv", "BROKERS",
                "consumerGroup", null, "consumerGroupFromEnv", "GROUP");
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(metadata, Map.of(),
                Map.of("BROKERS", "k1:9092", "GROUP", "env-group"), null));
        assertEquals(List.of("k1:9092"), s.bootstrapServers());
        assertEquals("env-group", s.consumerGroup());
        TriggerParseException e = assertThrows(TriggerParseException.class, () -> parse(metadata));
        assertTrue(e.getMessage().contains("BROKERS"), e.getMessage());
    }

    @Test
    void partitionLimitationTakesIdsAndRanges() throws Exception {
        assertEquals(Set.of(1, 2, 10, 11, 12), parse(seedWith("partitionLimitation", "1,2,10-12")).partitionLimitation());
        // Ignored without a topic, as in KEDA.
        assertEquals(Set.of(), parse(seedWith("topic", null, "partitionLimitation", "1,2")).partitionLimitation());
    }

    @Test
    void booleansAcceptGoParseBoolForms() throws Exception {
        for (String yes : List.of("true", "True", "TRUE", "t", "T", "1")) {
            assertTrue(parse(seedWith("allowIdleConsumers", yes)).allowIdleConsumers(), yes);
        }
        for (String no : List.of("false", "False", "FALSE", "f", "F", "0")) {
            assertFalse(parse(seedWith("allowIdleConsumers", no)).allowIdleConsumers(), no);
        }
    }

    @Test
    void saslAndTlsComeFromTheMetadataFirstAndCredentialsOnlyFromTheTriggerAuthentication() throws Exception {
        // KEDA 2.21's order: sasl, tls and saslTokenProvider from the metadata, then the auth params; username,
        // password and key material from the auth params only.
        Map<String, String> metadata = seedWith("sasl", "plaintext", "username", "meta-user", "password", "meta-pass");
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(metadata,
                Map.of("sasl", "scram_sha512", "username", "auth-user", "password", "auth-pass"), Map.of(), null));
        assertEquals(SaslMechanism.PLAINTEXT, s.auth().sasl());
        assertEquals("auth-user", s.auth().username());
        assertEquals("auth-pass", s.auth().password());
        assertFalse(s.auth().toString().contains("auth-pass"), "secrets never printed");
        assertFalse(s.toString().contains("auth-pass"), "secrets never printed");
        TriggerParseException inMetadataOnly = assertThrows(TriggerParseException.class, () -> parse(metadata));
        assertTrue(inMetadataOnly.getMessage().contains("no username given"), inMetadataOnly.getMessage());
        assertEquals(SaslMechanism.SCRAM_SHA512, KafkaTriggerParser.parse(new TriggerInput(SEED,
                Map.of("sasl", "scram_sha512", "username", "u", "password", "p"), Map.of(), null)).auth().sasl());
    }

    @Test
    void tlsReadsPemMaterial() throws Exception {
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(SEED,
                Map.of("tls", "enable", "ca", "CA", "cert", "CERT", "key", "KEY", "keyPassword", "pw"),
                Map.of(), null));
        assertFalse(s.auth().unsafeSsl(), "unsafeSsl is read from the metadata only, as KEDA does");
        s = KafkaTriggerParser.parse(new TriggerInput(seedWith("unsafeSsl", "true"),
                Map.of("tls", "enable", "ca", "CA", "cert", "CERT", "key", "KEY", "keyPassword", "pw"), Map.of(), null));
        assertTrue(s.auth().tls());
        assertEquals("CERT", s.auth().cert());
        assertTrue(s.auth().unsafeSsl());
    }

    @Test
    void oauthbearerReadsScopesAndExtensions() throws Exception {
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of("sasl", "oauthbearer",
                "username", "client", "password", "secret", "oauthTokenEndpointUri", "https://idp/token",
                "scopes", "a, b", "oauthExtensions", "logicalCluster=lkc-1,identityPoolId=pool-2"), Map.of(), null));
        assertEquals(List.of("a", "b"), s.auth().scopes());
        assertEquals(Map.of("logicalCluster", "lkc-1", "identityPoolId", "pool-2"), s.auth().oauthExtensions());
    }

    @Test
    void metricTypeValueIsKept() throws Exception {
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of(), Map.of(), "Value"));
        assertEquals(MetricTargetType.VALUE, s.metricType());
    }

    private static final Map<String, String> NO_AUTH = Map.of();

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(seedWith("bootstrapServers", null), NO_AUTH, "bootstrapServers"),
                Arguments.of(seedWith("bootstrapServers", " , "), NO_AUTH, "bootstrapServers"),
                Arguments.of(seedWith("consumerGroup", null), NO_AUTH, "consumerGroup"),
                Arguments.of(seedWith("lagThreshold", "abc"), NO_AUTH, "lagThreshold"),
                Arguments.of(seedWith("lagThreshold", "0"), NO_AUTH, "lagThreshold"),
                Arguments.of(seedWith("lagThreshold", "-5"), NO_AUTH, "lagThreshold"),
                Arguments.of(seedWith("lagThreshold", "10.5"), NO_AUTH, "lagThreshold"),
                Arguments.of(seedWith("activationLagThreshold", "-1"), NO_AUTH, "activationLagThreshold"),
                Arguments.of(seedWith("activationLagThreshold", "x"), NO_AUTH, "activationLagThreshold"),
                Arguments.of(seedWith("offsetResetPolicy", "middle"), NO_AUTH, "offsetResetPolicy"),
                Arguments.of(seedWith("allowIdleConsumers", "yes"), NO_AUTH, "allowIdleConsumers"),
                Arguments.of(seedWith("excludePersistentLag", "maybe"), NO_AUTH, "excludePersistentLag"),
                Arguments.of(seedWith("scaleToZeroOnInvalidOffset", "2"), NO_AUTH, "scaleToZeroOnInvalidOffset"),
                Arguments.of(seedWith("limitToPartitionsWithLag", "on"), NO_AUTH, "limitToPartitionsWithLag"),
                Arguments.of(seedWith("ensureEvenDistributionOfPartitions", "nope"), NO_AUTH, "ensureEvenDistributionOfPartitions"),
                Arguments.of(seedWith("allowIdleConsumers", "true", "limitToPartitionsWithLag", "true"), NO_AUTH, "allowIdleConsumers"),
                Arguments.of(seedWith("topic", null, "limitToPartitionsWithLag", "true"), NO_AUTH, "limitToPartitionsWithLag"),
                Arguments.of(seedWith("topic", null, "ensureEvenDistributionOfPartitions", "true"), NO_AUTH,
                        "ensureEvenDistributionOfPartitions"),
                Arguments.of(seedWith("limitToPartitionsWithLag", "true", "ensureEvenDistributionOfPartitions", "true"), NO_AUTH,
                        "ensureEvenDistributionOfPartitions"),
                Arguments.of(seedWith("partitionLimitation", "1,x"), NO_AUTH, "partitionLimitation"),
                Arguments.of(seedWith("partitionLimitation", "5-2"), NO_AUTH, "partitionLimitation"),
                Arguments.of(seedWith("fullMetadata", "maybe"), NO_AUTH, "fullMetadata"),
                Arguments.of(seedWith("lagSecondsThreshold", "0"), NO_AUTH, "lagSecondsThreshold"),
                Arguments.of(seedWith("lagSecondsThreshold", "ten"), NO_AUTH, "lagSecondsThreshold"),
                Arguments.of(seedWith("lagSecondsThreshold", "30", "activationLagSecondsThreshold", "-1"), NO_AUTH,
                        "activationLagSecondsThreshold"),
                Arguments.of(seedWith("activationLagSecondsThreshold", "5"), NO_AUTH, "needs lagSecondsThreshold"),
                Arguments.of(seedWith("fullMetadata", "false", "topic", null), NO_AUTH, "fullMetadata"),
                Arguments.of(seedWith("sasl", "kerberos"), NO_AUTH, "sasl"),
                Arguments.of(seedWith("sasl", "plaintext"), NO_AUTH, "username"),
                Arguments.of(seedWith("sasl", "scram_sha256"), Map.of("username", "u"), "password"),
                Arguments.of(seedWith("sasl", "oauthbearer"), Map.of("username", "u", "password", "p"), "oauthTokenEndpointUri"),
                Arguments.of(seedWith("sasl", "oauthbearer", "saslTokenProvider", "azure"), Map.of("username", "u", "password", "p"),
                        "saslTokenProvider"),
                Arguments.of(seedWith("tls", "on"), NO_AUTH, "tls"),
                Arguments.of(seedWith("tls", "enable"), Map.of("cert", "C"), "key"),
                Arguments.of(seedWith("tls", "enable"), Map.of("key", "K"), "cert"),
                Arguments.of(seedWith("tls", "enable", "unsafeSsl", "sure"), NO_AUTH, "unsafeSsl"),
                Arguments.of(seedWith("sasl", "oauthbearer"), Map.of("username", "u", "password", "p",
                        "oauthTokenEndpointUri", "https://idp", "oauthExtensions", "novalue"), "oauthExtensions"),
                // GSSAPI, as KEDA validates it.
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("password", "p", "realm", "R", "kerberosConfig", "K"), "username"),
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("username", "u", "realm", "R", "kerberosConfig", "K"),
                        "exactly one of password, keytab or ccacheName"),
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("username", "u", "password", "p", "keytab", "a2V5",
                        "realm", "R", "kerberosConfig", "K"), "exactly one of password, keytab or ccacheName"),
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("username", "u", "ccacheName", "../etc/cache",
                        "realm", "R", "kerberosConfig", "K"), "ccacheName must be a file name"),
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("username", "u", "password", "p", "kerberosConfig", "K"), "realm"),
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("username", "u", "password", "p", "realm", "R"), "kerberosConfig"),
                Arguments.of(seedWith("sasl", "gssapi"), Map.of("username", "u", "password", "p", "realm", "R",
                        "kerberosConfig", "K", "kerberosDisableFAST", "fast"), "kerberosDisableFAST"),
                // AWS MSK IAM, as KEDA validates it.
                Arguments.of(seedWith("sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam", "awsRegion", "eu-west-1"),
                        Map.of("awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s"), "TLS is required"),
                Arguments.of(seedWith("sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam", "tls", "enable"),
                        Map.of("awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s"), "awsRegion"),
                Arguments.of(seedWith("sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam", "tls", "enable",
                        "awsRegion", "eu-west-1"), NO_AUTH, "awsAccessKeyID not found"),
                Arguments.of(seedWith("sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam", "tls", "enable",
                        "awsRegion", "eu-west-1"), Map.of("awsAccessKeyID", "AKIA"), "awsSecretAccessKey not found"),
                Arguments.of(seedWith("sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam", "tls", "enable",
                        "awsRegion", "eu-west-1", "identityOwner", "someone"), NO_AUTH, "identityOwner"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalidMetadataIsRejectedNamingTheParameter(Map<String, String> metadata, Map<String, String> auth, String named) {
        TriggerParseException e = assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(metadata, auth, Map.of(), null)));
        assertTrue(e.getMessage().contains(named), () -> "message \"" + e.getMessage() + "\" should name " + named);
    }

    /** sarama's ParseKafkaVersion, which KEDA uses for {@code version}. */
    @ParameterizedTest
    @ValueSource(strings = {"1.0.0", "2.8.1", "3.9.0", "4.1.0", "10.0.0", "0.10.2.1", "0.11.0.0", "0.8.2.0"})
    void kafkaVersionsKedaAccepts(String version) throws Exception {
        assertEquals(version, parse(seedWith("version", version)).version());
    }

    @ParameterizedTest
    @ValueSource(strings = {"latest", "2.8", "2.8.1.0", "0.11.0", "1.0.0-rc1", "v2.8.0", "01.0.0", "2..1", "0.1.2.3.4"})
    void kafkaVersionsKedaRefuses(String version) {
        TriggerParseException e = assertThrows(TriggerParseException.class, () -> parse(seedWith("version", version)));
        assertTrue(e.getMessage().startsWith("version:"), e.getMessage());
    }

    @Test
    void lagSecondsThresholdIsOurExtensionWithItsOwnMetric() throws Exception {
        KafkaTriggerSettings s = parse(seedWith("lagSecondsThreshold", "30", "activationLagSecondsThreshold", "5"));
        assertEquals(30L, s.lagSecondsThreshold());
        assertEquals(5L, s.activationLagSecondsThreshold());
        assertEquals("s1-kafka-events-lag-seconds", s.lagSecondsMetricName(1));
        assertEquals(null, parse(SEED).lagSecondsMetricName(0), "KEDA's triggers get no extra metric");
    }

    @Test
    void fullMetadataDefaultsToTrueAndFalseNeedsATopic() throws Exception {
        assertTrue(parse(SEED).fullMetadata());
        assertFalse(parse(seedWith("fullMetadata", "false")).fullMetadata());
        assertTrue(parse(seedWith("fullMetadata", "true", "topic", null)).fullMetadata());
    }

    /** KEDA's names, from its NormalizeString: only / . : % ( ) become '-'; underscores and the rest are kept. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "events            |            | 0 | s0-kafka-events",
            "orders.v1_eu      |            | 0 | s0-kafka-orders-v1_eu",
            "my_topic          |            | 3 | s3-kafka-my_topic",
            "a.b.c             |            | 1 | s1-kafka-a-b-c",
            "Mixed-Case_1.x    |            | 0 | s0-kafka-Mixed-Case_1-x",
            "                  | my-group   | 2 | s2-kafka-my-group-topics",
            "                  | team/app:1 | 0 | s0-kafka-team-app-1-topics",
            "                  | g%(x).y    | 0 | s0-kafka-g--x--y-topics",
            "                  | g_under    | 0 | s0-kafka-g_under-topics"})
    void metricNamesAreKedasExactly(String topic, String group, int index, String expected) throws Exception {
        Map<String, String> metadata = seedWith("topic", topic, "consumerGroup", group == null ? "my-group" : group);
        assertEquals(expected, parse(metadata).metricName(index));
    }

    @Test
    void metricTypeUtilizationIsRejectedForKafka() {
        assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of(), Map.of(), "Utilization")));
        assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of(), Map.of(), "Average")));
    }

    @Test
    void equalConnectionsShareAClient() throws Exception {
        ClusterConnection a = parse(seedWith("bootstrapServers", "b:1,a:1")).connection();
        ClusterConnection b = parse(seedWith("bootstrapServers", "a:1,b:1", "topic", "other")).connection();
        assertEquals(a, b);
    }

    @Test
    void partitionLimitationIsBounded() {
        // Before: this range looped past Integer.MAX_VALUE and filled the heap (evaluate died with OutOfMemoryError).
        TriggerParseException all = assertThrows(TriggerParseException.class,
                () -> parse(seedWith("partitionLimitation", "0-2147483647")));
        assertTrue(all.getMessage().contains("partitionLimitation") && all.getMessage().contains("100000"), all.getMessage());
        assertThrows(TriggerParseException.class, () -> parse(seedWith("partitionLimitation", "2147483640-2147483647,0-99999")));
        assertThrows(TriggerParseException.class, () -> parse(seedWith("partitionLimitation", "-1")));
        assertEquals(8, assertDoesNotThrowParse(seedWith("partitionLimitation", "2147483640-2147483647")).partitionLimitation().size(),
                "a short range at the top of the int range ends");
    }

    private static KafkaTriggerSettings assertDoesNotThrowParse(Map<String, String> metadata) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> parse(metadata));
    }

    /** A Secret mapped to the wrong parameter must not reach a status condition through an error message. */
    @ParameterizedTest
    @ValueSource(strings = {"tls", "sasl", "saslTokenProvider", "oauthExtensions", "kerberosDisableFAST"})
    void errorsNeverQuoteAValueFromTheTriggerAuthentication(String parameter) {
        String secret = "s3cr3t-Pa55word";
        Map<String, String> auth = new HashMap<>(Map.of(parameter, secret));
        switch (parameter) {
            case "saslTokenProvider" -> auth.put("sasl", "oauthbearer");
            case "oauthExtensions" -> auth.putAll(Map.of("sasl", "oauthbearer", "oauthTokenEndpointUri", "https://idp",
                    "username", "u", "password", "p"));
            case "kerberosDisableFAST" -> auth.putAll(Map.of("sasl", "gssapi", "username", "u", "password", "p",
                    "realm", "R", "kerberosConfig", "K"));
            default -> { }
        }
        TriggerParseException e = assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(SEED, auth, Map.of(), null)));
        assertTrue(e.getMessage().startsWith(parameter + ":"), e.getMessage());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertTrue(e.getMessage().contains("TriggerAuthentication"), e.getMessage());
        // The same mistake written in the ScaledObject's own metadata is quoted back: the user wrote it there.
        if (List.of("tls", "sasl", "saslTokenProvider").contains(parameter)) {
            Map<String, String> metadata = seedWith(parameter, "oops");
            if (parameter.equals("saslTokenProvider")) {
                metadata.put("sasl", "oauthbearer");
            }
            TriggerParseException inMetadata = assertThrows(TriggerParseException.class,
                    () -> KafkaTriggerParser.parse(new TriggerInput(metadata, Map.of(), Map.of(), null)));
            assertTrue(inMetadata.getMessage().contains("\"oops\""), inMetadata.getMessage());
        }
    }
}
