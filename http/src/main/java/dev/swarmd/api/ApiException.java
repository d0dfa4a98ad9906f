package dev.swarmd.api;

import dev.swarmd.protocol.Failure;

/** An error answered in Docker's format: the status code and {"message": ...}. */
public final class ApiException extends RuntimeException {
  private final int status;

  public ApiException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, message);
  }

  public static ApiException unavailable(String message) {
    return new ApiException(503, message);
  }

  /** A refused command, worded as dockerd words swarmkit's gRPC errors. */
  public static ApiException of(Failure f) {
    return switch (f.kind()) {
      case NOT_FOUND -> new ApiException(404, f.message());
      case CONFLICT -> new ApiException(409, "rpc error: code = AlreadyExists desc = " + f.message());
      case INVALID -> new ApiException(400, "rpc error: code = InvalidArgument desc = " + f.message());
      case PRECONDITION -> new ApiException(400, "rpc error: code = FailedPrecondition desc = " + f.message());
      case OUT_OF_SEQUENCE -> new ApiException(500, "rpc error: code = Unknown desc = " + f.message());
      case UNAVAILABLE -> new ApiException(503, f.message());
    };
  }
}
