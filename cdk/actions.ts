/**
 * Actions each piece of code calls, and nothing else: adapters/index-store.ts (segmenter:
 * getVideo, beginRevision, markEnqueued, deleteDerived = Query + BatchWriteItem; worker: the same
 * plus putClip, getClip, addDoneClip, clipsOf, batchWrite), adapters/index-reader.ts (query), sqs-consumer.
 * One definition, shared by the constructs that grant them and the tests that check the policies.
 */
export const ACTIONS = {
  readVideo: ['s3:GetObject'], // GetObject, HeadObject and the presigned GET ffprobe/ffmpeg read
  enqueueClips: ['sqs:SendMessage'], // SendMessageBatch is authorized as SendMessage
  // Batch variants (DeleteMessageBatch, ChangeMessageVisibilityBatch) are authorized as these.
  consumeClips: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
  segmenterTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  workerTable: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  queryTable: ['dynamodb:GetItem', 'dynamodb:Query'],
  queryIndex: ['dynamodb:Query'],
  uploadVideo: ['s3:PutObject', 's3:AbortMultipartUpload'], // the query API signs upload PUTs (single and multipart) under the video prefix
  writeThumbnails: ['s3:PutObject', 's3:DeleteObject'], // one JPEG per segment under the thumbnail prefix; an older revision's are deleted
  listThumbnails: ['s3:ListBucket'], // on the bucket, limited to the thumbnail prefix by condition
} as const;
