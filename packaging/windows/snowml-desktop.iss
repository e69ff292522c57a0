; Inno Setup script: a per-user installer (no administrator rights) with Start-menu entries and an uninstaller.
; Built by build-windows.ps1, which passes the version from the package metadata: ISCC /DAppVersion=<version>.
#ifndef AppVersion
  #error AppVersion must be defined by build-windows.ps1 (ISCC /DAppVersion=...): the one version source is the package metadata.
#endif
#define AppName "snowml-desktop"
#define AppExe "snowml-desktop.exe"
#define CliExe "snowml.exe"
#define BundleDir "..\out\dist\snowml-desktop"

[Setup]
AppId={{6E1F6D0C-3B7A-4F0E-9A55-5B9C2C1D7E42}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=snowml-desktop developers
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\out
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=..\out\icons\snowml-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the snowml command to PATH (for scripts)"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
  Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;

// The uninstaller takes the app folder back out of the user's PATH (Inno Setup only restores values it created).
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Current, Dir: string;
  At: Integer;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
    exit;
  Dir := ExpandConstant('{app}');
  At := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';');
  if At = 0 then
    exit;
  // At is the position of the ';' before Dir in the padded string: Dir starts at At in Current.
  if At = 1 then
    Delete(Current, 1, Length(Dir) + 1)   // "Dir;rest" -> "rest"
  else
    Delete(Current, At - 1, Length(Dir) + 1);  // "rest;Dir..." -> "rest..."
  RegWriteExpandStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current);
end;
