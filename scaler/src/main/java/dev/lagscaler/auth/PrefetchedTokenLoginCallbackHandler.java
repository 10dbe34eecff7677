package dev.lagscaler.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

/**
 * Kafka's token-endpoint login handler, answering a client's first login from a token fetched beforehand.
 *
 * <p>kafka-clients logs a new SASL client in while it holds one JVM-wide lock ({@code LoginManager}'s class): a token
 * endpoint that takes 20 s to answer one trigger's login would keep every other SASL cluster's new client waiting
 * for those 20 s. {@link #prefetch} asks the endpoint first, on the calling thread and under no lock; the login
 * then takes that token at once. Refreshes, and a login without a prefetched token, ask the endpoint as Kafka does.
 */
public final class PrefetchedTokenLoginCallbackHandler extends OAuthBearerLoginCallbackHandler {
    /** Tokens fetched for a login about to happen, by a digest of the login's settings; each is taken once. */
    private static final Map<String, OAuthBearerToken> PREFETCHED = new ConcurrentHashMap<>();

    private String key;

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        super.configure(configs, saslMechanism, jaasConfigEntries);
        key = key(configs);
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            OAuthBearerToken ready = callback instanceof OAuthBearerTokenCallback ? PREFETCHED.remove(key) : null;
            if (ready != null && ready.lifetimeMs() > System.currentTimeMillis()) {
                ((OAuthBearerTokenCallback) callback).token(ready);
            } else {
                super.handle(new Callback[] {callback});
            }
        }
    }

    /**
     * Fetches the token the client built from {@code clientConfig} will log in with, so that its login waits on
     * nothing. Throws as the client would (a refused or failed login).
     */
    public static void prefetch(Map<String, Object> clientConfig) {
        Map<String, ?> values = new AdminClientConfig(clientConfig).values();
        PrefetchedTokenLoginCallbackHandler handler = new PrefetchedTokenLoginCallbackHandler();
        try {
            handler.configure(values, "OAUTHBEARER", JaasContext.loadClientContext(values).configurationEntries());
            OAuthBearerTokenCallback callback = new OAuthBearerTokenCallback();
            handler.handleFetched(callback);
            if (callback.token() == null) {
                throw new KafkaException("the token endpoint returned no token: " + callback.errorDescription());
            }
            PREFETCHED.put(handler.key, callback.token());
        } catch (IOException e) {
            throw new KafkaException("Failed to create new KafkaAdminClient",
                    new javax.security.auth.login.LoginException("token endpoint: " + e.getMessage()));
        } finally {
            handler.close();
        }
    }

    private void handleFetched(OAuthBearerTokenCallback callback) throws IOException {
        try {
            super.handle(new Callback[] {callback});
        } catch (UnsupportedCallbackException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A digest, not the settings themselves: they hold the client secret. */
    private static String key(Map<String, ?> configs) {
        Object jaas = configs.get(SaslConfigs.SASL_JAAS_CONFIG);
        String text = (jaas instanceof Password p ? p.value() : String.valueOf(jaas)) + "\n"
                + configs.get(SaslConfigs.SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
