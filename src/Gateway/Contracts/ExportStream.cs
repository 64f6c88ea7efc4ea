using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// An export as the response: an attachment written a page at a time as the pages arrive from the silo, so the
/// gateway holds a page or two whatever the run's size. The first page is asked for before this result exists, so
/// a run that is not found is still a 404 problem; a failure after the first bytes went out aborts the connection,
/// so a client cannot take a cut-off file for a whole one.
/// </summary>
public sealed partial class ExportStream : IResult, IEndpointMetadataProvider
{
    public const string JsonLinesType = "application/x-ndjson";
    public const string CsvType = "text/csv";

    private readonly Func<HttpContext, Task> _write;

    private ExportStream(Func<HttpContext, Task> write) => _write = write;

    /// <summary>
    /// Starts reading <paramref name="pages"/> and waits for the first page, so errors before any row (not found,
    /// unavailable) surface here, as the endpoint's own.
    /// </summary>
    public static async Task<ExportStream> OpenAsync<T>(
        IAsyncEnumerable<IReadOnlyList<T>> pages, Func<JsonSerializerOptions, ExportWriter<T>> writer, ExportFormat format,
        string fileName, CancellationToken cancellationToken)
    {
        var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        IReadOnlyList<T>? first;
        try
        {
            first = await enumerator.MoveNextAsync() ? enumerator.Current : null;
        }
        catch
        {
            await enumerator.DisposeAsync();
            throw;
        }

        return new ExportStream(context => WriteAsync(context, enumerator, first, writer, format, fileName));
    }

    public Task ExecuteAsync(HttpContext httpContext) => _write(httpContext);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [JsonLinesType, CsvType]));

    private static async Task WriteAsync<T>(
        HttpContext context, IAsyncEnumerator<IReadOnlyList<T>> pages, IReadOnlyList<T>? page,
        Func<JsonSerializerOptions, ExportWriter<T>> createWriter, ExportFormat format, string fileName)
    {
        var response = context.Response;
        var options = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var writer = createWriter(options);
        var body = response.BodyWriter;
        ValueTask<bool>? next = null;
        try
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = format == ExportFormat.Csv ? $"{CsvType}; charset=utf-8; header=present" : $"{JsonLinesType}; charset=utf-8";
            response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
            response.Headers.CacheControl = "no-store";
            writer.WriteStart(body);
            while (page is not null)
            {
                // The silo reads the next page while this one is written.
                next = pages.MoveNextAsync();
                writer.WritePage(page, body);
                var flushed = await body.FlushAsync(context.RequestAborted);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return;
                }

                var more = await next.Value;
                next = null;
                page = more ? pages.Current : null;
            }

            await body.CompleteAsync();
        }
        catch (Exception exception) when (response.HasStarted)
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                LogExportFailed(context.RequestServices.GetRequiredService<ILogger<ExportStream>>(), exception, fileName);
            }

            // The status and part of the file are out: only a broken connection tells the client it is not whole.
            context.Abort();
        }
        finally
        {
            if (next is { } pending)
            {
                try
                {
                    await pending;
                }
                catch (Exception)
                {
                    // The export is over: why the page it no longer needs failed does not matter.
                }
            }

            await pages.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The export {FileName} failed after it had started; the connection was aborted")]
    private static partial void LogExportFailed(ILogger logger, Exception exception, string fileName);
}
