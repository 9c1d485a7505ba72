; Inno Setup script for the Windows installer of oi-voice.
;
; Build (on Windows, after PyInstaller made dist\oi-voice\ from packaging\oi-voice.spec):
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\oi-voice.iss
; Output: dist\oi-voice-setup-<version>.exe. The GitHub Actions workflow
; (.github/workflows/installers.yml) does both steps. It cannot be built on Linux.
;
; Per-user install by default (no admin prompt); "Install for all users" asks for admin.
; Speech out uses Windows' own SAPI5 voices (pyttsx3's sapi5 driver); PortAudio ships
; inside the bundle (sounddevice's _sounddevice_data). Shell runs use cmd/PowerShell.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "oi-voice"
#define SourceDir "..\..\dist\oi-voice"

[Setup]
AppId={{6F1D8E0C-3B7A-4C1E-9A55-0D2B7E4C9A11}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=oi_voice developers
AppPublisherURL=https://github.com/oi-voice/oi-voice
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=oi-voice-setup-{#AppVersion}
SetupIconFile=..\..\assets\app\oi-voice.ico
UninstallDisplayIcon={app}\oi-voice.exe
Compression=lzma2/fast
SolidCompression=no
WizardStyle=modern
MinVersion=10.0

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\oi-voice.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\oi-voice.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\oi-voice.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Nothing is written into {app} at run time; settings live in the user's profile
; (%APPDATA%\oi-voice) and are kept, as users expect.
Type: dirifempty; Name: "{app}"
