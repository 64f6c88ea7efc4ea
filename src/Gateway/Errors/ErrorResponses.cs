using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using OptimizationRuns.Grains.Errors;
using OptimizationRuns.Grains.Projects;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Errors;

/// <summary>
/// Turns the grains' typed errors and malformed requests into problem details: not found 404,
/// conflict 409, invalid values 400 naming the fields, overloaded or database unavailable 503 with Retry-After, data
/// the database refused 422, bad JSON and missing required members 400 naming their JSON paths, oversized bodies 413.
/// Anything else is a 500 and is logged.
/// </summary>
public sealed partial class ErrorResponses(ILogger<ErrorResponses> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // A grain whose activation failed on the database (its grain storage could not be read) is answered with
        // Orleans' own exception around the grains' typed storage error.
        exception = StorageErrorInside(exception) ?? exception;
        switch (exception)
        {
            case RunNotFoundException or ProjectNotFoundException:
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, "Not found", exception.Message);
                return true;
            case RunConflictException:
                await Problems.WriteAsync(context, StatusCodes.Status409Conflict, "Conflict", exception.Message);
                return true;
            case RunValidationException invalid:
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "Invalid request",
                    "One or more fields are invalid.", invalid.Errors.ToDictionary(e => e.Key, e => e.Value));
                return true;
            case RunOverloadedException overloaded:
                GatewayTelemetry.CountRefusal(GatewayTelemetry.RefusalReason.Overloaded);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(overloaded.RetryAfter.TotalSeconds)).ToString();
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Overloaded", exception.Message);
                return true;
            case StorageUnavailableException unavailable:
                logger.LogWarning("The database is unavailable: {Message}", unavailable.Message);
                GatewayTelemetry.CountRefusal(GatewayTelemetry.RefusalReason.DatabaseUnavailable);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString();
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Unavailable", exception.Message);
                return true;
            case WriteRejectedException rejected:
                await Problems.WriteAsync(context, StatusCodes.Status422UnprocessableEntity, "Rejected by the database", exception.Message,
                    rejected.Constraint is { } constraint ? new Dictionary<string, string[]> { [constraint] = [exception.Message] } : null);
                return true;
            case var _ when ClusterUnavailable(exception):
                logger.LogWarning(exception, "A grain call did not complete");
                GatewayTelemetry.CountRefusal(GatewayTelemetry.RefusalReason.ClusterUnavailable);
                context.Response.Headers.RetryAfter = "1";
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Unavailable",
                    "The cluster did not answer in time; retry.");
                return true;
            case BadHttpRequestException bad:
                var errors = Describe(bad);
                await Problems.WriteAsync(context, bad.StatusCode, bad.StatusCode == 413 ? "Payload too large" : "Invalid request",
                    errors.Count == 1 ? errors.Single().Value[0] : "One or more fields are invalid.",
                    bad.StatusCode == 400 ? errors : null);
                return true;
            default:
                return false;
        }
    }

    // A call that a dead, unreachable or busy silo (or the connection to it) could not answer: retrying is safe, so 503
    // (a silo killed under load surfaced one of the connection errors as a rare 500).
    private static bool ClusterUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException
                or Orleans.Runtime.GatewayTooBusyException or Orleans.Runtime.Messaging.ConnectionFailedException
                or Microsoft.AspNetCore.Connections.ConnectionAbortedException or Microsoft.AspNetCore.Connections.ConnectionResetException
                or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static Exception? StorageErrorInside(Exception exception)
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is StorageUnavailableException or WriteRejectedException)
            {
                return inner;
            }
        }

        return null;
    }

    // System.Text.Json names the offending path ($.samples[3].score); clients know the field as samples[3].score.
    // Missing required members are reported on their object's path ($.samples[3]) with their names in the message.
    private static Dictionary<string, string[]> Describe(BadHttpRequestException bad)
    {
        if (bad.InnerException is not JsonException json)
        {
            return DescribeParameter(bad.Message) ?? new() { ["body"] = [bad.Message] };
        }

        var path = json.Path is { Length: > 0 } p ? p.TrimStart('$').TrimStart('.') : "";
        if (MissingMembers().Match(json.Message) is { Success: true } missing)
        {
            return missing.Groups["name"].Captures
                .ToDictionary(name => path.Length > 0 ? $"{path}.{name.Value}" : name.Value, _ => new[] { "Required." });
        }

        var message = NullRefused().IsMatch(json.Message)
            ? "Required: must not be null."
            : $"Not valid JSON for this field ({json.Message.Split(" Path:")[0]})";
        return new() { [path.Length > 0 ? path : "body"] = [message] };
    }

    // A query, route or header parameter the binder could not convert or found missing is named as the parameter.
    private static Dictionary<string, string[]>? DescribeParameter(string message)
    {
        if (BindFailed().Match(message) is { Success: true } failed)
        {
            return new() { [failed.Groups["name"].Value] = [$"Must be {Expected(failed.Groups["type"].Value)} (got \"{failed.Groups["value"].Value}\")."] };
        }

        return RequiredMissing().Match(message) is { Success: true } missing
            ? new() { [missing.Groups["name"].Value] = ["Required."] }
            : null;
    }

    private static string Expected(string type) => type.Replace("Nullable<", "").TrimEnd('>') switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" => "a whole number",
        "double" or "decimal" or "float" => "a number",
        "bool" or "Boolean" => "true or false",
        "Guid" => "a UUID",
        "DateTimeOffset" or "DateTime" => "an ISO-8601 time",
        var other => $"a valid {other}",
    };

    // Failed to bind parameter "Nullable<long> after" from "abc".
    [GeneratedRegex("""^Failed to bind parameter "(?<type>[^"]+) (?<name>[^" ]+)" from "(?<value>[^"]*)"\.""")]
    private static partial Regex BindFailed();

    // Required parameter "string a" was not provided from query string.
    [GeneratedRegex("""^Required parameter "(?:[^"]+ )?(?<name>[^" ]+)" was not provided""")]
    private static partial Regex RequiredMissing();

    // "JSON deserialization for type 'X' was missing required properties including: 'iteration', 'sampleIndex'."
    [GeneratedRegex("missing required properties including: (?:'(?<name>[^']+)'(?:, )?)+")]
    private static partial Regex MissingMembers();

    // "The property or field 'runName' on type 'X' doesn't allow setting null values. …" (RespectNullableAnnotations).
    [GeneratedRegex("doesn't allow setting null values")]
    private static partial Regex NullRefused();
}
