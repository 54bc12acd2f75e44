DROP TABLE IF EXISTS sms_templates;
DROP TABLE IF EXISTS sms_settings;
