package dev.swarmd.it;

/** Object IDs as Swarm prints them: 25 characters, lower-case base 36 (swarmkit identity.NewID). */
public final class Ids {
    public static final String ID = "[0-9a-z]{25}";

    private Ids() {}
}
