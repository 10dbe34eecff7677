package dev.lagscaler.trigger;

import java.util.List;
import java.util.Map;

/**
 * How to authenticate to a Kafka cluster: SASL and TLS settings resolved from a trigger's auth params and metadata.
 * Holds secrets; {@link #toString()} never prints them. {@code kerberos} is set for {@code sasl: gssapi} only,
 * {@code awsMskIam} for {@code sasl: oauthbearer} with {@code saslTokenProvider: aws_msk_iam} only.
 */
public record KafkaAuth(
        SaslMechanism sasl,
        String username,
        String password,
        boolean tls,
        String ca,
        String cert,
        String key,
        String keyPassword,
        boolean unsafeSsl,
        String oauthTokenEndpointUri,
        List<String> scopes,
        Map<String, String> oauthExtensions,
        Kerberos kerberos,
        AwsMskIam awsMskIam) {

    public static final KafkaAuth NONE = new KafkaAuth(SaslMechanism.NONE, null, null, false, null, null, null, null,
            false, null, List.of(), Map.of(), null, null);

    public KafkaAuth {
        scopes = List.copyOf(scopes);
        oauthExtensions = Map.copyOf(oauthExtensions);
    }

    /**
     * GSSAPI settings as KEDA takes them: exactly one of the password ({@link #password()} of the enclosing auth),
     * a keytab (its bytes, Base64-encoded so the record compares by value) or the name of a credential cache file.
     */
    public record Kerberos(String realm, String keytabBase64, String ccacheName, String kerberosConfig,
                           String serviceName, boolean disableFast) {
        @Override
        public String toString() {
            return "Kerberos[realm=" + realm + ", keytab=" + (keytabBase64 == null ? "none" : "redacted")
                    + ", ccacheName=" + ccacheName + ", serviceName=" + serviceName + "]";
        }
    }

    /**
     * AWS MSK IAM: the region, and where the AWS credentials come from: static keys, a role to assume, or the
     * operator's own identity ({@code identityOwner: operator} or a TriggerAuthentication's {@code podIdentity}).
     */
    public record AwsMskIam(String region, String roleArn, String accessKeyId, String secretAccessKey,
                            String sessionToken, boolean operatorIdentity) {
        @Override
        public String toString() {
            return "AwsMskIam[region=" + region + ", roleArn=" + (roleArn == null ? "none" : "set")
                    + ", accessKeyId=" + (accessKeyId == null ? "none" : "set")
                    + ", secretAccessKey=" + (secretAccessKey == null ? "none" : "redacted")
                    + ", operatorIdentity=" + operatorIdentity + "]";
        }
    }

    @Override
    public String toString() {
        return "KafkaAuth[sasl=" + sasl.kedaName() + ", username=" + (username == null ? "none" : "set")
                + ", password=" + (password == null ? "none" : "redacted") + ", tls=" + tls
                + ", ca=" + (ca == null ? "none" : "set") + ", cert=" + (cert == null ? "none" : "set")
                + ", key=" + (key == null ? "none" : "redacted") + ", unsafeSsl=" + unsafeSsl
                + (kerberos == null ? "" : ", " + kerberos) + (awsMskIam == null ? "" : ", " + awsMskIam) + "]";
    }
}
