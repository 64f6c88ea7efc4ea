using OptimizationRuns.Silo;
using OptimizationRuns.Silo.Migrations;

// Content root beside the binary: settings files are found there, and no file watcher runs over the checkout.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

if (args.FirstOrDefault() == "migrate")
{
    return await MigrateCommand.RunAsync(args[1..], builder.Configuration, CancellationToken.None);
}

if (args.FirstOrDefault() == "prepare-database")
{
    return await PrepareDatabaseCommand.RunAsync(args[1..], CancellationToken.None);
}

builder.Services.AddHostedService<WaitForDatabase>();
if (builder.Configuration.GetValue("Database:MigrateOnStart", false))
{
    builder.Services.AddHostedService<MigrateOnStart>();
}

builder.AddSiloTelemetry();
builder.UseOrleans(silo => silo
    .AddOptimizationRunsClustering(builder.Configuration)
    .AddOptimizationRuns(builder.Configuration));

await builder.Build().RunAsync();
return 0;
