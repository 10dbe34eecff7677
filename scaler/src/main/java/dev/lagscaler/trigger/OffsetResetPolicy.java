package dev.lagscaler.trigger;

/** What a consumer does when its group has no committed offset for a partition; it decides how KEDA counts that lag. */
public enum OffsetResetPolicy {
    LATEST, EARLIEST
}
