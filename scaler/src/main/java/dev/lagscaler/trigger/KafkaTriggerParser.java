package dev.lagscaler.trigger;

import static dev.lagscaler.trigger.ParameterReader.Sources.AUTH;
import static dev.lagscaler.trigger.ParameterReader.Sources.METADATA_THEN_AUTH;
import static dev.lagscaler.trigger.ParameterReader.Sources.METADATA;
import static dev.lagscaler.trigger.ParameterReader.Sources.METADATA_OR_ENV;

import dev.lagscaler.Defaults;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses a {@code kafka} trigger exactly as KEDA's kafka scaler does: the same parameters, sources, defaults and
 * validation errors (see shared/docs/keda-semantics.md §1).
 */
public final class KafkaTriggerParser {
    private static final Pattern KAFKA_VERSION = Pattern.compile("[1-9]\\d{0,8}\\.\\d{1,9}\\.\\d{1,9}");
    /** sarama's ParseKafkaVersion, which KEDA uses: {@code 0.x.y.z} before Kafka 1.0, {@code x.y.z} from 1.0 on. */
    private static final Pattern KAFKA_VERSION_PRE_1 = Pattern.compile("0\\.\\d{1,9}\\.\\d{1,9}\\.\\d{1,9}");

    private KafkaTriggerParser() {
    }

    public static KafkaTriggerSettings parse(TriggerInput input) throws TriggerParseException {
        KafkaParameterNames.rejectTypos(input.metadata().keySet());
        ParameterReader p = new ParameterReader(input);

        List<String> bootstrapServers = new ArrayList<>();
        for (String server : p.required("bootstrapServers", METADATA_OR_ENV).split(",")) {
            if (!server.isBlank()) {
                bootstrapServers.add(server.trim());
            }
        }
        if (bootstrapServers.isEmpty()) {
            throw new TriggerParseException("no bootstrapServers given: bootstrapServers is required");
        }
        String consumerGroup = p.required("consumerGroup", METADATA_OR_ENV);
        String topic = p.orDefault("topic", METADATA_OR_ENV, "");
        Set<Integer> partitionLimitation = p.intRanges("partitionLimitation");

        long lagThreshold = p.longValue("lagThreshold", Defaults.LAG_THRESHOLD);
        if (lagThreshold <= 0) {
            throw new TriggerParseException("lagThreshold must be a positive number, got " + lagThreshold);
        }
        long activationLagThreshold = p.longValue("activationLagThreshold", Defaults.ACTIVATION_LAG_THRESHOLD);
        if (activationLagThreshold < 0) {
            throw new TriggerParseException("activationLagThreshold must be zero or a positive number, got "
                    + activationLagThreshold);
        }
        OffsetResetPolicy offsetResetPolicy = OffsetResetPolicy.valueOf(
                p.oneOf("offsetResetPolicy", METADATA, "latest", List.of("latest", "earliest")).toUpperCase(java.util.Locale.ROOT));

        boolean allowIdleConsumers = p.bool("allowIdleConsumers", METADATA);
        boolean excludePersistentLag = p.bool("excludePersistentLag", METADATA);
        boolean scaleToZeroOnInvalidOffset = p.bool("scaleToZeroOnInvalidOffset", METADATA);
        boolean limitToPartitionsWithLag = p.bool("limitToPartitionsWithLag", METADATA);
        boolean ensureEvenDistribution = p.bool("ensureEvenDistributionOfPartitions", METADATA);

        if (allowIdleConsumers && limitToPartitionsWithLag) {
            throw new TriggerParseException("allowIdleConsumers and limitToPartitionsWithLag cannot be set at the same time");
        }
        if (topic.isEmpty() && limitToPartitionsWithLag) {
            throw new TriggerParseException("topic must be specified when using limitToPartitionsWithLag");
        }
        if (topic.isEmpty() && ensureEvenDistribution) {
            throw new TriggerParseException("topic must be specified when using ensureEvenDistributionOfPartitions");
        }
        if (limitToPartitionsWithLag && ensureEvenDistribution) {
            throw new TriggerParseException(
                    "limitToPartitionsWithLag and ensureEvenDistributionOfPartitions cannot be set at the same time");
        }

        String version = p.orDefault("version", METADATA, Defaults.KAFKA_VERSION);
        if (!KAFKA_VERSION.matcher(version).matches() && !KAFKA_VERSION_PRE_1.matcher(version).matches()) {
            throw new TriggerParseException("version: \"" + version + "\" is not a Kafka version like 2.8.0 (or 0.11.0.2"
                    + " before 1.0)");
        }
        // KEDA's switch between describing the whole cluster and the named topic; kafka-clients always fetches
        // metadata for the topics it asks about, so the value changes no request here (see the README).
        boolean fullMetadata = p.optional("fullMetadata", METADATA) == null || p.bool("fullMetadata", METADATA);
        if (!fullMetadata && topic.isEmpty()) {
            throw new TriggerParseException("topic must be specified when fullMetadata is false");
        }
        // lagscaler's extension (not in KEDA): scale on how long the oldest record has waited, beside the records.
        Long lagSecondsThreshold = optionalPositiveSeconds(p, "lagSecondsThreshold");
        long activationLagSecondsThreshold = p.longValue("activationLagSecondsThreshold", 0);
        if (activationLagSecondsThreshold < 0) {
            throw new TriggerParseException("activationLagSecondsThreshold must be zero or a positive number of seconds, got "
                    + activationLagSecondsThreshold);
        }
        if (lagSecondsThreshold == null && p.optional("activationLagSecondsThreshold", METADATA) != null) {
            throw new TriggerParseException("activationLagSecondsThreshold needs lagSecondsThreshold");
        }
        // lagscaler's extension: size the replicas so the backlog is gone within this many seconds, from the
        // measured produce and consume rates (the lag threshold while they are not known).
        Long drainWithinSeconds = optionalPositiveSeconds(p, "drainWithinSeconds");
        MetricTargetType metricType = MetricTargetType.parse(input.metricType());
        if (metricType == MetricTargetType.UTILIZATION) {
            throw new TriggerParseException("metricType Utilization is only for cpu and memory triggers, not kafka");
        }

        return new KafkaTriggerSettings(bootstrapServers, consumerGroup, topic,
                topic.isEmpty() ? Set.of() : partitionLimitation, lagThreshold, activationLagThreshold,
                offsetResetPolicy, allowIdleConsumers, excludePersistentLag, scaleToZeroOnInvalidOffset,
                limitToPartitionsWithLag, ensureEvenDistribution, version, fullMetadata, lagSecondsThreshold,
                activationLagSecondsThreshold, drainWithinSeconds, metricType, parseAuth(p));
    }

    /** One of lagscaler's optional extensions in whole seconds: null when absent, else above zero. */
    private static Long optionalPositiveSeconds(ParameterReader p, String name) throws TriggerParseException {
        if (p.optional(name, METADATA) == null) {
            return null;
        }
        long seconds = p.longValue(name, 0);
        if (seconds <= 0) {
            throw new TriggerParseException(name + " must be a positive number of seconds, got " + seconds);
        }
        return seconds;
    }

    private static KafkaAuth parseAuth(ParameterReader p) throws TriggerParseException {
        // KEDA reads sasl, tls and saslTokenProvider from the metadata first, then the TriggerAuthentication;
        // credentials from the TriggerAuthentication only (a password in plain metadata is not read there either).
        boolean tls = p.oneOf("tls", METADATA_THEN_AUTH, "disable", List.of("enable", "disable")).equals("enable");
        boolean unsafeSsl = p.bool("unsafeSsl", METADATA);
        String ca = null;
        String cert = null;
        String key = null;
        String keyPassword = null;
        if (tls) {
            ca = p.optional("ca", AUTH);
            cert = p.optional("cert", AUTH);
            key = p.optional("key", AUTH);
            keyPassword = p.optional("keyPassword", AUTH);
            if (cert != null && key == null) {
                throw new TriggerParseException("key must be provided with cert");
            }
            if (key != null && cert == null) {
                throw new TriggerParseException("cert must be provided with key");
            }
        }

        String saslValue = p.orDefault("sasl", METADATA_THEN_AUTH, "none");
        SaslMechanism sasl = null;
        for (SaslMechanism m : SaslMechanism.values()) {
            if (m.kedaName().equals(saslValue)) {
                sasl = m;
            }
        }
        if (sasl == null) {
            throw new TriggerParseException("sasl: " + p.shown("sasl", METADATA_THEN_AUTH, saslValue)
                    + " is not one of " + SaslMechanism.kedaNames());
        }
        String username = p.optional("username", AUTH);
        String password = p.optional("password", AUTH);
        String tokenUri = null;
        List<String> scopes = List.of();
        Map<String, String> extensions = Map.of();
        KafkaAuth.Kerberos kerberos = null;
        KafkaAuth.AwsMskIam awsMskIam = null;
        switch (sasl) {
            case NONE -> {
                username = null;
                password = null;
            }
            case PLAINTEXT, SCRAM_SHA256, SCRAM_SHA512 -> requireUsernameAndPassword(sasl, username, password);
            case OAUTHBEARER -> {
                String provider = p.oneOf("saslTokenProvider", METADATA_THEN_AUTH, "bearer", List.of("bearer", "aws_msk_iam"));
                if (provider.equals("aws_msk_iam")) {
                    awsMskIam = parseAwsMskIam(p, tls);
                    username = null;
                    password = null;
                } else {
                    requireUsernameAndPassword(sasl, username, password);
                    tokenUri = p.optional("oauthTokenEndpointUri", AUTH);
                    if (tokenUri == null) {
                        throw new TriggerParseException("no oauthTokenEndpointUri given: sasl oauthbearer needs oauthTokenEndpointUri");
                    }
                    scopes = p.list("scopes", AUTH);
                    extensions = p.keyValues("oauthExtensions", AUTH);
                }
            }
            case GSSAPI -> kerberos = parseKerberos(p, username, password);
        }
        return new KafkaAuth(sasl, username, password, tls, ca, cert, key, keyPassword, unsafeSsl, tokenUri,
                scopes, extensions, kerberos, awsMskIam);
    }

    private static void requireUsernameAndPassword(SaslMechanism sasl, String username, String password)
            throws TriggerParseException {
        if (username == null) {
            throw new TriggerParseException("no username given: sasl " + sasl.kedaName() + " needs username"
                    + " (from the TriggerAuthentication)");
        }
        if (password == null) {
            throw new TriggerParseException("no password given: sasl " + sasl.kedaName() + " needs password"
                    + " (from the TriggerAuthentication)");
        }
    }

    /** KEDA's GSSAPI parameters: username, exactly one of password, keytab and ccacheName, realm, kerberosConfig. */
    private static KafkaAuth.Kerberos parseKerberos(ParameterReader p, String username, String password)
            throws TriggerParseException {
        if (username == null) {
            throw new TriggerParseException("no username given: sasl gssapi needs username (from the TriggerAuthentication)");
        }
        String keytab = p.optional("keytab", AUTH);
        String ccacheName = p.optional("ccacheName", AUTH);
        int given = (password == null ? 0 : 1) + (keytab == null ? 0 : 1) + (ccacheName == null ? 0 : 1);
        if (given != 1) {
            throw new TriggerParseException("exactly one of password, keytab or ccacheName must be provided for sasl gssapi"
                    + " (" + given + " given)");
        }
        if (ccacheName != null && (ccacheName.contains("/") || ccacheName.contains("\\") || ccacheName.equals(".")
                || ccacheName.equals(".."))) {
            throw new TriggerParseException("ccacheName must be a file name and not a path");
        }
        String realm = p.optional("realm", AUTH);
        if (realm == null) {
            throw new TriggerParseException("no realm given: sasl gssapi needs realm");
        }
        String kerberosConfig = p.optional("kerberosConfig", AUTH);
        if (kerberosConfig == null) {
            throw new TriggerParseException("no Kerberos configuration file (kerberosConfig) given: sasl gssapi needs kerberosConfig");
        }
        String serviceName = p.orDefault("kerberosServiceName", AUTH, "kafka");
        boolean disableFast = p.bool("kerberosDisableFAST", AUTH);
        return new KafkaAuth.Kerberos(realm, keytab, ccacheName, kerberosConfig, serviceName, disableFast);
    }

    /**
     * KEDA's AWS MSK IAM parameters: TLS on, {@code awsRegion} in the metadata, and credentials as KEDA's
     * {@code GetAwsAuthorization} finds them: the operator's identity ({@code identityOwner: operator} or a
     * TriggerAuthentication with {@code podIdentity.provider: aws}), a role ARN, or access keys.
     */
    private static KafkaAuth.AwsMskIam parseAwsMskIam(ParameterReader p, boolean tls) throws TriggerParseException {
        if (!tls) {
            throw new TriggerParseException("TLS is required for AWS MSK authentication: set tls: enable");
        }
        String region = p.optional("awsRegion", METADATA);
        if (region == null) {
            throw new TriggerParseException("no awsRegion given: saslTokenProvider aws_msk_iam needs awsRegion in the metadata");
        }
        String roleArn = p.optional("awsRoleArn", AUTH);
        if ("aws".equals(p.optional(AuthParams.POD_IDENTITY_PROVIDER, AUTH))) {
            return new KafkaAuth.AwsMskIam(region, roleArn, null, null, null, true);
        }
        String owner = p.oneOf("identityOwner", METADATA, "pod", List.of("pod", "operator"));
        if (owner.equals("operator")) {
            return new KafkaAuth.AwsMskIam(region, null, null, null, null, true);
        }
        if (roleArn != null) {
            return new KafkaAuth.AwsMskIam(region, roleArn, null, null, null, true);
        }
        String keyId = p.optional("awsAccessKeyID", AUTH);
        if (keyId == null) {
            keyId = p.optional("awsAccessKeyId", AUTH);
        }
        String secret;
        String sessionToken = null;
        if (keyId != null) {
            secret = p.optional("awsSecretAccessKey", AUTH);
            sessionToken = p.optional("awsSessionToken", AUTH);
        } else {
            keyId = p.optional("awsAccessKeyID", METADATA_OR_ENV);
            if (keyId == null) {
                throw new TriggerParseException("awsAccessKeyID not found: saslTokenProvider aws_msk_iam needs awsRoleArn,"
                        + " awsAccessKeyID and awsSecretAccessKey, identityOwner: operator, or a podIdentity");
            }
            secret = p.fromEnvOnly("awsSecretAccessKey");
        }
        if (secret == null) {
            throw new TriggerParseException("awsSecretAccessKey not found: saslTokenProvider aws_msk_iam needs it with awsAccessKeyID");
        }
        return new KafkaAuth.AwsMskIam(region, null, keyId, secret, sessionToken, false);
    }
}
