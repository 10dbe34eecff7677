package dev.lagscaler.adapter;

import java.util.List;

/**
 * Who is asking: a user, groups and extra attributes (as the apiserver's authenticators give them: scopes, a
 * ServiceAccount's pod), as the aggregator's front proxy or a TokenReview said.
 */
public record Caller(String user, List<String> groups, java.util.Map<String, List<String>> extra) {
    public Caller {
        groups = List.copyOf(groups);
        extra = java.util.Map.copyOf(extra);
    }

    public Caller(String user, List<String> groups) {
        this(user, groups, java.util.Map.of());
    }
}
