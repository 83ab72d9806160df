using TenantNotes.Host;

TenantNotesApp.Build(args).Run();
