package dev.lagscaler.auth;

import dev.lagscaler.Defaults;
import dev.lagscaler.trigger.ClusterConnection;
import dev.lagscaler.trigger.KafkaAuth;
import dev.lagscaler.trigger.SaslMechanism;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ForwardingAdmin;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * Maps a trigger's connection settings onto kafka-clients configuration: security.protocol, SASL mechanism and JAAS
 * config, and TLS stores built from PEM. The returned map holds secrets: it goes to the client and nowhere else.
 */
public final class KafkaClientConfig {
    private KafkaClientConfig() {
    }

    /**
     * An Admin client for the connection. A GSSAPI connection holds its Kerberos files and login for as long as the
     * client lives: closing the client releases them.
     */
    public static Admin openAdmin(ClusterConnection connection, String clientId) {
        if (connection.auth().sasl() != SaslMechanism.GSSAPI) {
            Map<String, Object> config = admin(connection, clientId);
            if (connection.auth().sasl() == SaslMechanism.OAUTHBEARER && connection.auth().awsMskIam() == null) {
                // The token first, under no lock: the client's own login would hold kafka-clients' JVM-wide one.
                PrefetchedTokenLoginCallbackHandler.prefetch(config);
            }
            return Admin.create(config);
        }
        KerberosLogin login = KerberosLogin.open(connection.auth());
        try {
            Map<String, Object> config = admin(connection, clientId);
            config.putAll(login.clientConfig(connection.auth()));
            return new ForwardingAdmin(config) {
                @Override
                public void close(Duration timeout) {
                    try {
                        super.close(timeout);
                    } finally {
                        login.close();
                    }
                }
            };
        } catch (RuntimeException e) {
            login.close();
            throw e;
        }
    }

    /** Admin settings; for GSSAPI without the Kerberos login, which {@link #openAdmin} adds. */
    public static Map<String, Object> admin(ClusterConnection connection, String clientId) {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, connection.label());
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Defaults.KAFKA_API_TIMEOUT.toMillis());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Defaults.KAFKA_API_TIMEOUT.toMillis() / 2);
        config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 10_000);
        config.putAll(security(connection.auth()));
        return config;
    }

    /** The security settings alone (also used for the tests' producers and consumers). */
    public static Map<String, Object> security(KafkaAuth auth) {
        Map<String, Object> config = new HashMap<>();
        boolean sasl = auth.sasl() != SaslMechanism.NONE;
        String protocol = auth.tls() ? (sasl ? "SASL_SSL" : "SSL") : (sasl ? "SASL_PLAINTEXT" : "PLAINTEXT");
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        if (auth.sasl() == SaslMechanism.GSSAPI) {
            config.put(SaslConfigs.SASL_MECHANISM, auth.sasl().kafkaName());
            config.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, auth.kerberos().serviceName());
        } else if (auth.awsMskIam() != null) {
            config.put(SaslConfigs.SASL_MECHANISM, auth.sasl().kafkaName());
            config.put(SaslConfigs.SASL_JAAS_CONFIG, mskIamJaas(auth.awsMskIam()));
            config.put(SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS, MskIamLoginCallbackHandler.class);
        } else if (sasl) {
            config.put(SaslConfigs.SASL_MECHANISM, auth.sasl().kafkaName());
            config.put(SaslConfigs.SASL_JAAS_CONFIG, jaas(auth));
            if (auth.sasl() == SaslMechanism.OAUTHBEARER) {
                allowTokenEndpoint(auth.oauthTokenEndpointUri());
                config.put(SaslConfigs.SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL, auth.oauthTokenEndpointUri());
                config.put(SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS, PrefetchedTokenLoginCallbackHandler.class);
            }
        }
        if (auth.tls()) {
            config.putAll(PemStores.sslConfig(auth));
            if (auth.unsafeSsl()) {
                config.put(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG, "");
                config.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, TrustAllSslEngineFactory.class);
            }
        }
        return config;
    }

    /**
     * kafka-clients 4 logs in to a token endpoint only when the JVM lists it in
     * {@value #ALLOWED_TOKEN_URLS} (empty by default: no endpoint at all). The trigger's owner chose the endpoint, as
     * with KEDA, so it is added to that list, unless whoever started the operator set the list themselves: then it
     * is theirs to keep, and an endpoint outside it fails with Kafka's message naming the property.
     */
    private static synchronized void allowTokenEndpoint(String url) {
        if (TOKEN_URLS_SET_AT_START) {
            return;
        }
        String current = System.getProperty(ALLOWED_TOKEN_URLS, "");
        java.util.Set<String> urls = new java.util.LinkedHashSet<>(java.util.Arrays.asList(current.split(",")));
        urls.remove("");
        if (urls.add(url)) {
            System.setProperty(ALLOWED_TOKEN_URLS, String.join(",", urls));
        }
    }

    static final String ALLOWED_TOKEN_URLS = "org.apache.kafka.sasl.oauthbearer.allowed.urls";
    private static final boolean TOKEN_URLS_SET_AT_START = System.getProperty(ALLOWED_TOKEN_URLS) != null;

    private static String jaas(KafkaAuth auth) {
        return switch (auth.sasl()) {
            case PLAINTEXT -> "org.apache.kafka.common.security.plain.PlainLoginModule required username="
                    + quote(auth.username()) + " password=" + quote(auth.password()) + ";";
            case SCRAM_SHA256, SCRAM_SHA512 -> "org.apache.kafka.common.security.scram.ScramLoginModule required username="
                    + quote(auth.username()) + " password=" + quote(auth.password()) + ";";
            case OAUTHBEARER -> "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="
                    + quote(auth.username()) + " clientSecret=" + quote(auth.password())
                    + (auth.scopes().isEmpty() ? "" : " scope=" + quote(String.join(" ", auth.scopes())))
                    + auth.oauthExtensions().entrySet().stream()
                            .map(e -> " extension_" + e.getKey() + "=" + quote(e.getValue()))
                            .collect(Collectors.joining())
                    + ";";
            case NONE, GSSAPI -> throw new IllegalArgumentException("no static JAAS config for " + auth.sasl().kedaName());
        };
    }

    /** The OAUTHBEARER login entry whose options {@link MskIamLoginCallbackHandler} reads. */
    static String mskIamJaas(KafkaAuth.AwsMskIam iam) {
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ")
                .append(MskIamLoginCallbackHandler.REGION).append('=').append(quote(iam.region()));
        if (iam.accessKeyId() != null) {
            jaas.append(' ').append(MskIamLoginCallbackHandler.ACCESS_KEY_ID).append('=').append(quote(iam.accessKeyId()))
                    .append(' ').append(MskIamLoginCallbackHandler.SECRET_ACCESS_KEY).append('=').append(quote(iam.secretAccessKey()));
            if (iam.sessionToken() != null) {
                jaas.append(' ').append(MskIamLoginCallbackHandler.SESSION_TOKEN).append('=').append(quote(iam.sessionToken()));
            }
        } else if (iam.roleArn() != null) {
            jaas.append(' ').append(MskIamLoginCallbackHandler.ROLE_ARN).append('=').append(quote(iam.roleArn()));
        }
        return jaas.append(';').toString();
    }

    /** JAAS values are double-quoted; backslashes and quotes inside them are escaped. */
    static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
