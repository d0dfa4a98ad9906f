package dev.swarmd.protocol;

/** Why a command was refused; the API edge maps the kind to Docker's status code. */
public record Failure(Kind kind, String message) implements CborSerializable {
  public enum Kind { INVALID, NOT_FOUND, CONFLICT, OUT_OF_SEQUENCE, PRECONDITION, UNAVAILABLE }

  public static Failure of(Kind kind, String message) {
    return new Failure(kind, message);
  }
}
