using OptimizationRuns.Gateway;
using OptimizationRuns.Gateway.Apis;
using OptimizationRuns.Gateway.Dashboard;
using OptimizationRuns.Gateway.Cluster;
using OptimizationRuns.Gateway.Security;
using Scalar.AspNetCore;

// Settings (appsettings.json) come from beside the binary, wherever it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddOptimizationRunsClient();
builder.AddGatewayServices();
builder.AddGatewaySecurity();
builder.AddGatewayTelemetry();
builder.AddDashboard();

var app = builder.Build();

app.UseTraceIdHeader();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewaySecurity();
app.UseClusterAvailability();
app.UseBodySizeLimit(app.Configuration.GetValue("Gateway:MaxBodyBytes", GatewayServices.DefaultMaxBodyBytes));
app.UseDashboardAssets();
app.UseAuthentication();
app.UseAuthorization();
app.UseDashboard();

app.MapPrometheusScrapingEndpoint();
app.MapOpenApi();
app.MapScalarApiReference("/docs", o => o.WithOpenApiRoutePattern("/openapi/v1.json"));
app.MapHealthApi();
app.MapProjectsApi();
app.MapRunsApi();
app.MapLiveApi();
app.MapIterationsApi();
app.MapSamplesApi();
app.MapAnalyticsApi();
app.MapCandidatesApi();
app.MapCompareApi();
app.MapRunAnalysisApi();
app.MapDashboard();

app.Run();

/// <summary>The gateway's entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
